// The Playground tab: TensorFlow Playground's controls. The server trains (nn, one epoch
// a frame) and streams frames; this module only draws them: the boundary and points on a
// canvas, a heatmap per neuron, edges coloured by weight or by gradient, loss curves, the
// size of each layer's gradients. Paused, a click on a training point plays that point's
// backprop through the network as it is (the Network tab's view and player).
// Its controls, their defaults and the URL come from the Playground's settings schema.
import { $, MID, NEG, POS, colour, el, fmt, rgb, svg } from "./common.js";
import { cssSize, networkView } from "./network.js";
import { build, defaults, fromUrl, parse, toUrl } from "./settings.js";

// Three classes (the 3-arm spiral): the Playground's orange and blue, and a purple.
export const CLASS_RGB = [NEG, POS, [128, 72, 170]];

let ctx = null, hello = null, schema = null, controls = {}, playing = false, link = null;
let s = null;  // the settings, once the schema has come
let lastGood = null, points = null, frame = null, curve = { train: [], test: [] }, selected = null;
let backprop = null, picked = null;  // a training point's walk: its view, the point's number
const NODE = 52, R = 6;  // the largest neuron (CSS px); the plane is [-R, R]²

// Play and Pause as drawn icons: U+23F8 (pause) is missing from Debian's default fonts.
export function icon(kind) {
  const shapes = kind === "pause"
    ? [svg("rect", { x: 2, y: 1, width: 4, height: 12 }), svg("rect", { x: 8, y: 1, width: 4, height: 12 })]
    : [svg("path", { d: "M2 1 L13 7 L2 13 Z" })];
  const icon = svg("svg", { width: 14, height: 14, viewBox: "0 0 14 14", class: "icon", "aria-hidden": "true" });
  icon.append(...shapes);
  return icon;
}

export function showPlaying(button, on) {
  button.replaceChildren(icon(on ? "pause" : "play"), on ? " Pause" : " Play");
}

// ------------------------------------------------------------ settings <-> URL
export function urlParams() {
  if (!s) return link ? Object.fromEntries(link) : {};  // the schema has not come yet
  return toUrl(schema, s);
}

function send(reset = false) {
  ctx.send({ type: "playground", settings: s, reset });
}

// A live setting (learning rate, regularization, activation, batch size) changes the
// running network; the others start a new run: the server decides, by the schema.
function change(key, value) {
  s[key] = value;
  if (key === "show_test" || key === "discretize") {  // only what the page draws
    if (frame) drawFrame();
    ctx.saveUrl();
  }
  send();
}

function syncControls() {
  for (const [key, c] of Object.entries(controls)) c.set(s[key]);
  $("pg-problem").value = hello.datasets[s.dataset];
  for (const b of controls.dataset.buttons) b.hidden = hello.datasets[b.dataset.name] !== hello.datasets[s.dataset];
  $("pg-layers-text").textContent = `${s.layers.length} hidden layer${s.layers.length === 1 ? "" : "s"}`;
}

export function init(context) {
  ctx = context;
  showPlaying($("pg-play"), false);
  $("pg-play").onclick = () => {
    if (!playing) closeBackprop();
    ctx.send({ type: playing ? "playground.pause" : "playground.play" });
  };
  $("pg-step").onclick = () => {
    closeBackprop();
    if (playing) ctx.send({ type: "playground.pause" });
    ctx.send({ type: "playground.step" });
  };
  $("pg-reset").onclick = () => { closeBackprop(); send(true); };
  backprop = networkView($, "pgbp", $("pg-backprop"));
  const again = () => { if (frame && hello) drawFrame(); };  // a new width: the network anew
  window.addEventListener("resize", again);
  window.addEventListener("bp-theme", again);
  if (typeof ResizeObserver !== "undefined") {  // a width the page gives (the class panel's column)
    let width = 0;
    new ResizeObserver(() => {
      const now = $("pg-network").clientWidth;
      if (now !== width) { width = now; again(); }
    }).observe($("pg-network"));
  }
  $("pgbp-close").onclick = closeBackprop;
  $("pg-boundary").onclick = pickPoint;
  $("pg-problem").onchange = e => {
    const first = Object.keys(hello.datasets).find(d => hello.datasets[d] === e.target.value);
    change("dataset", first);
  };
  $("pg-layer-more").onclick = () => {
    if (s.layers.length < schema.properties.layers.maxItems) change("layers", [...s.layers, 2]);
  };
  $("pg-layer-less").onclick = () => { if (s.layers.length) change("layers", s.layers.slice(0, -1)); };
  $("pg-edge-grad").onchange = () => drawNetwork();
  $("pg-csv").onchange = async e => {
    const file = e.target.files[0];
    e.target.value = "";
    if (!file) return;
    const limit = hello.limits.csv_bytes;
    if (file.size > limit) {
      const size = file.size > 1e6 ? `${(file.size / 1e6).toFixed(1)} MB` : `${Math.round(file.size / 1024)} KB`;
      ctx.showError(`${file.name} is ${size}; the limit is ${Math.round(limit / 1024)} KB (${hello.limits.csv_rows} rows of x, y, label)`);
      return;
    }
    ctx.send({ type: "playground.csv", text: await file.text(), settings: s });
  };
  if (ctx.hashParams().get("tab") === "playground") link = ctx.hashParams();  // before the URL is rewritten
}

export function start(info) {
  hello = info;
  if (!s) {  // the first hello: the schema, then the link's settings
    schema = hello.tabs.playground;
    s = link ? fromUrl(schema, link) : defaults(schema);
  }
  controls = build($("tab-playground"), schema, s, change, "pg");
  curve = { train: [], test: [] };
  send(true);
}

// ------------------------------------------------------------ messages
export function onMessage(m) {
  if (m.type === "playground.reset" || m.type === "playground.settings") {
    s = m.settings;
    lastGood = structuredClone(s);
    if (m.type === "playground.reset") {
      points = m;
      curve = { train: [], test: [] };
      selected = null;
      $("pg-inspect").replaceChildren();
      closeBackprop();
    }
    syncControls();
    ctx.saveUrl();
  } else if (m.type === "playground.frame") {
    frame = m;
    if (curve.train.length && m.epoch < curve.train[curve.train.length - 1][0]) curve = { train: [], test: [] };
    if (!curve.train.length || m.epoch > curve.train[curve.train.length - 1][0]) {
      curve.train.push([m.epoch, m.train_loss]);
      curve.test.push([m.epoch, m.test_loss]);
    }
    if (curve.train.length > 2000) { curve.train.shift(); curve.test.shift(); }
    drawFrame();
    if (m.diverged) ctx.showError(m.diverged);
  } else if (m.type === "playground.playing") {
    playing = m.playing;
    showPlaying($("pg-play"), playing);
  } else if (m.type === "playground.point") {
    showBackprop(m);
  }
}

// ------------------------------------------------------------ one point's backprop
// A click on the boundary: the nearest training point (within a few pixels) has its walk
// played through the network as it is now (the run pauses first).
function pickPoint(e) {
  if (!points || !frame) return;
  const canvas = $("pg-boundary"), box = canvas.getBoundingClientRect(), W = canvas.width;
  const cx = ((e.clientX - box.left) * W) / box.width, cy = ((e.clientY - box.top) * W) / box.height;
  const at = v => ((v + R) / (2 * R)) * W;
  let best = -1, nearest = 8;
  points.train.forEach(([x, y], k) => {
    const d = Math.hypot(at(x) - cx, W - at(y) - cy);
    if (d < nearest) { nearest = d; best = k; }
  });
  if (best < 0) return;
  if (playing) ctx.send({ type: "playground.pause" });
  ctx.send({ type: "playground.point", index: best });
}

function showBackprop(view) {
  picked = view.index;
  const [x, y, label] = view.point;
  $("pgbp-what").textContent = `training point ${view.index + 1}: (${fmt(x)}, ${fmt(y)}), label ${fmt(label)}`;
  $("pg-backprop").hidden = false;
  backprop.load(view, { at: 0 });
  $("pg-backprop").scrollIntoView({ block: "nearest" });  // a phone: it is below the boundary
  if (frame) drawFrame();  // the point ringed
}

function closeBackprop() {
  $("pg-backprop").hidden = true;
  picked = null;
}

// Settings the server refused (say, from an edited link): back to the last good ones.
export function onError(m) {
  if (m.about !== "playground" || !s) return;
  s = structuredClone(lastGood || defaults(schema));
  if (!lastGood) ctx.send({ type: "playground", settings: s, reset: true }, true);
  else syncControls();
}

// ------------------------------------------------------------ drawing
function decode(b64) {
  const text = atob(b64);
  const out = new Float32Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) / 127.5 - 1;
  return out;
}

export function paintHeat(canvas, b64, size, discrete = false) {
  const values = decode(b64);
  if (discrete) values.forEach((v, i) => { values[i] = v >= 0 ? 1 : -1; });
  const small = document.createElement("canvas");
  small.width = small.height = size;
  const c = small.getContext("2d");
  const img = c.createImageData(size, size);
  for (let i = 0; i < values.length; i++) {
    const [r, g, b] = rgb(values[i]);
    img.data.set([r, g, b, 255], 4 * i);
  }
  c.putImageData(img, 0, 0);
  const target = canvas.getContext("2d");
  target.imageSmoothingEnabled = true;
  target.drawImage(small, 0, 0, canvas.width, canvas.height);
}

// Each grid point in its class's colour, paler where the network is less sure.
export function paintClasses(canvas, classB64, sureB64, size, discrete = false) {
  const classes = atob(classB64), sure = decode(sureB64);
  if (discrete) sure.fill(1);
  const small = document.createElement("canvas");
  small.width = small.height = size;
  const c = small.getContext("2d");
  const img = c.createImageData(size, size);
  for (let i = 0; i < sure.length; i++) {
    const end = CLASS_RGB[classes.charCodeAt(i)] || MID, t = 0.25 + 0.6 * (sure[i] + 1) / 2;
    img.data.set([...MID.map((m, k) => Math.round(m + (end[k] - m) * t)), 255], 4 * i);
  }
  c.putImageData(img, 0, 0);
  const target = canvas.getContext("2d");
  target.imageSmoothingEnabled = true;
  target.drawImage(small, 0, 0, canvas.width, canvas.height);
}

function drawFrame() {
  $("pg-epoch").textContent = String(frame.epoch).padStart(6, "0");
  $("pg-test-loss").textContent = fmt(frame.test_loss);
  $("pg-train-loss").textContent = fmt(frame.train_loss);
  const pct = a => (a === null ? "—" : `${(100 * a).toFixed(1)}%`);
  $("pg-test-acc").textContent = pct(frame.test_accuracy);
  $("pg-train-acc").textContent = pct(frame.train_accuracy);
  const canvas = $("pg-boundary");
  if (frame.boundary_classes) paintClasses(canvas, frame.boundary_classes, frame.boundary, frame.boundary_size, s.discretize);
  else paintHeat(canvas, frame.boundary, frame.boundary_size, s.discretize);
  drawPoints(canvas);
  drawLegend();
  drawCurve();
  drawNetwork();
  drawStrip();
}

// Each layer's mean |∂loss/∂w| on a log scale (1e-8 .. 1): vanishing gradients show as
// the first layers' bars shrinking, orders of magnitude below the last's.
function drawStrip() {
  const sizes = frame.gradient_sizes || [];
  const cells = sizes.map((v, i) => {
    const cell = el("div", { class: "strip-layer", "data-layer": `L${i + 1}`, title: `L${i + 1}: mean |∂loss/∂w| = ${v}` });
    const bar = el("div", { class: "strip-bar" }), fill = el("div", { class: "strip-fill" });
    const t = Number.isFinite(v) && v > 0 ? Math.max(0, Math.min(1, (Math.log10(v) + 8) / 8)) : 0;
    fill.style.width = `${(100 * t).toFixed(1)}%`;
    bar.appendChild(fill);
    cell.append(el("span", { class: "strip-name" }, `L${i + 1}`), bar, el("span", { class: "strip-value" }, fmt(v)));
    return cell;
  });
  $("pg-strip").replaceChildren(el("div", { class: "strip-title" }, "gradient size per layer, mean |∂loss/∂w| (log scale)"), ...cells);
}

function drawLegend() {
  const swatch = (rgbList, text) => {
    const span = el("span", { class: "swatch" }, `■ ${text}`);
    span.style.color = `rgb(${rgbList.join(",")})`;
    return span;
  };
  const parts = frame.boundary_classes
    ? CLASS_RGB.map((c, k) => swatch(c, `class ${k}`))
    : [swatch(NEG, "−1"), swatch(MID.map(v => v - 60), "0"), swatch(POS, "+1")];
  $("pg-legend").replaceChildren(...parts, el("span", {}, s.show_test ? " · test points ringed" : ""));
}

function drawPoints(canvas) {
  if (!points) return;
  paintPoints(canvas, points, Boolean(frame.boundary_classes), s.show_test);
  if (picked === null || !points.train[picked]) return;
  const [x, y] = points.train[picked], W = canvas.width, at = v => ((v + R) / (2 * R)) * W;
  const c = canvas.getContext("2d");
  c.beginPath();
  c.arc(at(x), W - at(y), 8, 0, 2 * Math.PI);
  c.lineWidth = 2.5;
  c.strokeStyle = "#111";
  c.stroke();
}

// The data set's points over the boundary: train points ringed white, test points (when
// shown) ringed dark.
export function paintPoints(canvas, data, classes, showTest = true) {
  const c = canvas.getContext("2d"), W = canvas.width;
  const at = v => ((v + R) / (2 * R)) * W;
  const dot = ([x, y, label], test) => {
    c.beginPath();
    c.arc(at(x), W - at(y), 3.5, 0, 2 * Math.PI);
    c.fillStyle = classes ? `rgb(${CLASS_RGB[label].join(",")})` : colour(label);
    c.fill();
    c.lineWidth = test ? 1.2 : 1;
    c.strokeStyle = test ? "rgba(0, 0, 0, 0.55)" : "#fff";
    c.stroke();
  };
  data.train.forEach(p => dot(p, false));
  if (showTest) data.test.forEach(p => dot(p, true));
}

function drawCurve() {
  const canvas = $("pg-curve"), c = canvas.getContext("2d");
  c.clearRect(0, 0, canvas.width, canvas.height);
  const all = [...curve.train, ...curve.test].map(p => p[1]).filter(Number.isFinite);
  if (all.length < 2) return;
  const top = Math.max(...all, 1e-9), n = curve.train.length;
  const line = (data, style) => {
    c.beginPath();
    data.forEach(([, v], i) => {
      const x = (i / Math.max(n - 1, 1)) * canvas.width;
      const y = canvas.height - (Math.min(v, top) / top) * (canvas.height - 4) - 2;
      i ? c.lineTo(x, y) : c.moveTo(x, y);
    });
    c.strokeStyle = style;
    c.lineWidth = 2;
    c.stroke();
  };
  line(curve.test, "#333");
  line(curve.train, "#999");
}

// The network: features (all seven, the used ones lit), hidden layers, the output. Its
// size follows the width it is given (browser zoom, a phone, presenter mode): neurons
// shrink to fit, a feature's name goes under its neuron when there is no room beside it,
// and the layers' − n + controls go into a row above when they cannot sit over their
// columns; nothing overlaps.
function drawNetwork() {
  if (!frame || !hello) return;
  const box = $("pg-network");
  box.replaceChildren();
  const names = Object.keys(hello.features);
  const outputs = frame.layers[frame.layers.length - 1].biases.length;
  const last = outputs === 1 ? ["output"] : Array.from({ length: outputs }, (_, k) => `class ${k}`);
  const columns = [names, ...s.layers.map((n, i) => Array.from({ length: n }, (_, j) => `L${i + 1}.n${j + 1}`)), last];
  const width = box.clientWidth || 560;
  const small = cssSize(box, "--bp-small", 12);
  const per = width / columns.length;
  const node = Math.round(Math.max(24, Math.min(NODE, per * 0.5)));
  const label = Math.max(...names.map(f => hello.features[f].length)) * small * 0.6 + 10;
  const beside = per - node >= label + 8;  // the features' names right of their neurons
  const touch = cssSize(box, "--touch", 32);
  const ctlWidth = 2 * touch + small * 2;
  const over = per >= ctlWidth + 8;  // each layer's controls over its column
  const top = over ? touch + 6 : 4;
  const gapY = node + (beside ? 10 : small * 1.3 + 8);
  const xs = columns.map((_, c) => 2 + (c * (width - node - 4)) / (columns.length - 1));
  const height = top + Math.max(...columns.map(c => c.length)) * gapY;
  box.style.height = `${height}px`;
  const yOf = (c, j) => top + j * gapY;
  const edges = svg("svg", { width, height, class: "pg-edges" });
  box.appendChild(edges);
  const byGrad = $("pg-edge-grad").checked;
  // column positions of the used features, in the order the server uses them
  const rows = [s.features.map(f => names.indexOf(f)), ...s.layers.map(n => [...Array(n).keys()]), [...Array(outputs).keys()]];
  frame.layers.forEach((layer, li) => {
    const values = byGrad ? layer.grads : layer.weights;
    const most = Math.max(...values.flat().map(Math.abs), 1e-12);
    values.forEach((row, i) => row.forEach((v, j) => {
      const y1 = yOf(li, rows[li][i]) + node / 2, y2 = yOf(li + 1, rows[li + 1][j]) + node / 2;
      const line = svg("line", {
        x1: xs[li] + node, y1, x2: xs[li + 1], y2,
        stroke: colour(byGrad ? v / most : v), "stroke-width": 1 + 5 * Math.min(1, Math.abs(byGrad ? v / most : v)),
        class: "pg-edge",
      });
      const name = `${columns[li + 1][j]}.w${i + 1}`;
      line.onclick = () => inspect(`weight ${name} (from ${columns[li][rows[li][i]]})`, "w", li, i, j);
      edges.appendChild(line);
    }));
  });
  columns.forEach((col, c) => col.forEach((name, j) => {
    const canvas = el("canvas", { width: NODE, height: NODE, class: "pg-node", "data-id": name });
    Object.assign(canvas.style, { left: `${xs[c]}px`, top: `${yOf(c, j)}px`, width: `${node}px`, height: `${node}px` });
    if (c === 0) {
      const k = s.features.indexOf(name);
      canvas.classList.toggle("off", k < 0);
      if (k >= 0) paintHeat(canvas, frame.inputs[k], frame.heat_size);
      canvas.title = `${hello.features[name]} — click to ${k < 0 ? "use" : "drop"} this feature`;
      canvas.onclick = () => {
        const next = k < 0 ? [...s.features, name] : s.features.filter(f => f !== name);
        if (next.length) change("features", names.filter(f => next.includes(f)));
      };
      const text = el("span", { class: "pg-flabel" }, hello.features[name]);
      text.style.top = `${beside ? yOf(c, j) + node / 2 - small * 0.6 : yOf(c, j) + node + 1}px`;
      text.style.left = `${beside ? xs[c] + node + 4 : xs[c]}px`;
      box.appendChild(text);
    } else {
      const layer = frame.layers[c - 1];
      paintHeat(canvas, layer.heat[j], frame.heat_size);
      canvas.onclick = () => inspect(`neuron ${name}: bias b`, "b", c - 1, 0, j);
    }
    box.appendChild(canvas);
  }));
  const controls = s.layers.map((n, i) => {
    const ctl = el("div", { class: "pg-layerctl", "data-layer": `L${i + 1}` });
    const less = el("button", { title: `one neuron fewer in L${i + 1}` }, "−");
    const more = el("button", { title: `one neuron more in L${i + 1}` }, "+");
    less.onclick = () => { if (n > 1) change("layers", s.layers.map((m, k) => (k === i ? m - 1 : m))); };
    more.onclick = () => {
      if (n < schema.properties.layers.items.maximum) change("layers", s.layers.map((m, k) => (k === i ? m + 1 : m)));
    };
    ctl.append(...(over ? [] : [el("span", {}, `L${i + 1}`)]), less, el("span", {}, String(n)), more);
    if (over) ctl.style.left = `${xs[i + 1] + node / 2 - ctlWidth / 2}px`;
    return ctl;
  });
  let row = box.parentElement.querySelector(".pg-layerrow");
  if (over || !controls.length) {
    if (row) row.remove();
    box.append(...controls);
  } else {
    if (!row) box.before((row = el("div", { class: "pg-layerrow" })));
    row.replaceChildren(...controls);
  }
  if (selected) selected();
}

// A clicked weight or bias: its value and gradient, and a field to type a new value in
// (bounded by the schema of a typed-in parameter; the server checks it again).
function inspect(what, kind, li, i, j) {
  selected = () => {
    const layer = frame.layers[li];
    const value = kind === "w" ? layer.weights[i][j] : layer.biases[j];
    const grad = kind === "w" ? layer.grads[i][j] : layer.bias_grads[j];
    const box = $("pg-inspect");
    const text = `${what} = ${fmt(value)}, ∂loss/∂${kind} = ${fmt(grad)} (epoch ${frame.epoch})`;
    if (box.firstChild && box.dataset.what === what) {  // keep the field being typed in
      box.firstChild.textContent = text;
      return;
    }
    const prop = hello.parameter.properties.value;
    const field = el("input", { type: "number", id: "pg-param", step: "any",
      min: String(prop.minimum), max: String(prop.maximum), value: String(Number(value.toPrecision(4))) });
    const set = el("button", { id: "pg-param-set" }, "Set");
    set.onclick = () => ctx.send({ type: "playground.parameter", kind, layer: li, source: i, neuron: j,
      value: parse(prop, field.value) });
    field.onkeydown = e => { if (e.key === "Enter") set.onclick(); };
    const row = el("label", { class: "setting" }, `new ${kind} `);
    row.append(field, set);
    box.dataset.what = what;
    box.replaceChildren(el("div", {}, text), row);
  };
  selected();
}
