// The Playground tab: TensorFlow Playground's controls. The server trains (nn, one epoch
// a frame) and streams frames; this module only draws them: the boundary and points on a
// canvas, a heatmap per neuron, edges coloured by weight or by gradient, loss curves.
import { $, MID, NEG, POS, colour, el, fmt, rgb, svg } from "./common.js";

// Three classes (the 3-arm spiral): the Playground's orange and blue, and a purple.
export const CLASS_RGB = [NEG, POS, [128, 72, 170]];

const LEARNING_RATES = [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const REG_RATES = [0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const DEFAULTS = {
  dataset: "circle", noise: 0, ratio: 50, batch: 10, features: ["x", "y"], layers: [4, 2],
  activation: "tanh", lr: 0.03, reg: "none", rate: 0, seed: 1,
};
let ctx = null, hello = null, playing = false;
let s = structuredClone(DEFAULTS);
let lastGood = null, points = null, frame = null, curve = { train: [], test: [] }, selected = null;
const NODE = 52, GAP_Y = 62;
const MAX_CSV = 60 * 1024;  // bytes: a message is at most 64 KB (about 2,000 rows)

// ------------------------------------------------------------ settings <-> URL
export function urlParams() {
  return {
    dataset: s.dataset, noise: s.noise, ratio: s.ratio, batch: s.batch,
    features: s.features.join(","), layers: s.layers.join(","), activation: s.activation,
    lr: s.lr, reg: s.reg, rate: s.rate, seed: s.seed,
  };
}

function fromUrl() {
  const p = ctx.hashParams();
  const num = (k) => (p.has(k) && Number.isFinite(Number(p.get(k))) ? Number(p.get(k)) : DEFAULTS[k]);
  const list = (k) => (p.has(k) ? p.get(k).split(",").filter(Boolean) : DEFAULTS[k]);
  s = {
    dataset: p.get("dataset") || DEFAULTS.dataset,
    noise: num("noise"), ratio: num("ratio"), batch: num("batch"),
    features: list("features"),
    layers: p.has("layers") ? list("layers").map(Number) : DEFAULTS.layers,
    activation: p.get("activation") || DEFAULTS.activation,
    lr: num("lr"), reg: p.get("reg") || DEFAULTS.reg, rate: num("rate"), seed: num("seed"),
  };
}

function reset() {
  ctx.send({ type: "playground", settings: s });
}

function change(key, value) {
  s[key] = value;
  reset();
}

// ------------------------------------------------------------ controls
function options(select, values, label = String) {
  select.replaceChildren(...values.map(v => el("option", { value: String(v) }, label(v))));
}

// A value from a link that the menu lacks (lr=0.05, say) joins the menu.
function choose(select, value) {
  if (![...select.options].some(o => o.value === String(value))) {
    select.appendChild(el("option", { value: String(value) }, String(value)));
  }
  select.value = String(value);
}

function syncControls() {
  choose($("pg-lr"), s.lr);
  $("pg-activation").value = s.activation;
  $("pg-reg").value = s.reg;
  choose($("pg-rate"), s.rate);
  $("pg-problem").value = hello.datasets[s.dataset];
  for (const k of ["ratio", "noise", "batch"]) {
    $(`pg-${k}`).value = String(s[k]);
    $(`pg-${k}-val`).textContent = String(s[k]);
  }
  $("pg-seed").value = String(s.seed);
  document.querySelectorAll("#pg-datasets button").forEach(b => {
    b.classList.toggle("active", b.dataset.name === s.dataset);
    b.hidden = hello.datasets[b.dataset.name] !== hello.datasets[s.dataset];
  });
  $("pg-layers-text").textContent = `${s.layers.length} hidden layer${s.layers.length === 1 ? "" : "s"}`;
}

export function init(context) {
  ctx = context;
  $("pg-play").onclick = () => ctx.send({ type: playing ? "playground.pause" : "playground.play" });
  $("pg-step").onclick = () => { if (playing) ctx.send({ type: "playground.pause" }); ctx.send({ type: "playground.step" }); };
  $("pg-reset").onclick = reset;
  $("pg-lr").onchange = e => change("lr", Number(e.target.value));
  $("pg-activation").onchange = e => change("activation", e.target.value);
  $("pg-reg").onchange = e => change("reg", e.target.value);
  $("pg-rate").onchange = e => change("rate", Number(e.target.value));
  $("pg-problem").onchange = e => {
    const first = Object.keys(hello.datasets).find(d => hello.datasets[d] === e.target.value);
    change("dataset", first);
  };
  for (const k of ["ratio", "noise", "batch"]) {
    $(`pg-${k}`).oninput = e => { $(`pg-${k}-val`).textContent = e.target.value; };
    $(`pg-${k}`).onchange = e => change(k, Number(e.target.value));
  }
  $("pg-seed").onchange = e => change("seed", Math.max(0, Math.round(Number(e.target.value) || 0)));
  $("pg-layer-more").onclick = () => { if (s.layers.length < hello.limits.hidden) change("layers", [...s.layers, 2]); };
  $("pg-layer-less").onclick = () => { if (s.layers.length) change("layers", s.layers.slice(0, -1)); };
  $("pg-edge-grad").onchange = () => drawNetwork();
  $("pg-csv").onchange = async e => {
    const file = e.target.files[0];
    e.target.value = "";
    if (!file) return;
    if (file.size > MAX_CSV) {
      const size = file.size > 1e6 ? `${(file.size / 1e6).toFixed(1)} MB` : `${Math.round(file.size / 1024)} KB`;
      ctx.showError(`${file.name} is ${size}; the limit is 60 KB (about 2,000 rows of x, y, label)`);
      return;
    }
    ctx.send({ type: "playground.csv", text: await file.text(), settings: s });
  };
  options($("pg-lr"), LEARNING_RATES);
  options($("pg-rate"), REG_RATES);
  if (ctx.hashParams().get("tab") === "playground") fromUrl();  // before the URL is rewritten
}

export function start(info) {
  hello = info;
  options($("pg-activation"), hello.activations);
  const box = $("pg-datasets");
  box.replaceChildren(...Object.keys(hello.datasets).map(name => {
    const b = el("button", { "data-name": name }, name);
    b.onclick = () => change("dataset", name);
    return b;
  }));
  curve = { train: [], test: [] };
  reset();
}

// ------------------------------------------------------------ messages
export function onMessage(m) {
  if (m.type === "playground.reset") {
    s = m.settings;
    lastGood = structuredClone(s);
    points = m;
    curve = { train: [], test: [] };
    selected = null;
    $("pg-inspect").textContent = "";
    syncControls();
    ctx.saveUrl();
  } else if (m.type === "playground.frame") {
    frame = m;
    if (curve.train.length && m.epoch <= curve.train[curve.train.length - 1][0]) curve = { train: [], test: [] };
    curve.train.push([m.epoch, m.train_loss]);
    curve.test.push([m.epoch, m.test_loss]);
    if (curve.train.length > 2000) { curve.train.shift(); curve.test.shift(); }
    drawFrame();
    if (m.diverged) ctx.showError(m.diverged);
  } else if (m.type === "playground.playing") {
    playing = m.playing;
    $("pg-play").textContent = playing ? "⏸ Pause" : "▶ Play";
  }
}

// Settings the server refused (say, from an edited link): back to the last good ones.
export function onError(m) {
  if (m.about !== "playground") return;
  s = structuredClone(lastGood || DEFAULTS);
  if (!lastGood) ctx.send({ type: "playground", settings: s }, true);
  else syncControls();
}

// ------------------------------------------------------------ drawing
function decode(b64) {
  const text = atob(b64);
  const out = new Float32Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) / 127.5 - 1;
  return out;
}

export function paintHeat(canvas, b64, size) {
  const values = decode(b64);
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
export function paintClasses(canvas, classB64, sureB64, size) {
  const classes = atob(classB64), sure = decode(sureB64);
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
  if (frame.boundary_classes) paintClasses(canvas, frame.boundary_classes, frame.boundary, frame.boundary_size);
  else paintHeat(canvas, frame.boundary, frame.boundary_size);
  drawPoints(canvas);
  drawLegend();
  drawCurve();
  drawNetwork();
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
  $("pg-legend").replaceChildren(...parts, el("span", {}, " · test points ringed"));
}

function drawPoints(canvas) {
  if (points) paintPoints(canvas, points, Boolean(frame.boundary_classes));
}

// The data set's points over the boundary: train points ringed white, test points dark.
export function paintPoints(canvas, data, classes) {
  const c = canvas.getContext("2d"), W = canvas.width, R = 6;
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
  data.test.forEach(p => dot(p, true));
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

// The network: features (all seven, the used ones lit), hidden layers, the output.
function drawNetwork() {
  if (!frame || !hello) return;
  const box = $("pg-network");
  box.replaceChildren();
  const names = Object.keys(hello.features);
  const outputs = frame.layers[frame.layers.length - 1].biases.length;
  const last = outputs === 1 ? ["output"] : Array.from({ length: outputs }, (_, k) => `class ${k}`);
  const columns = [names, ...s.layers.map((n, i) => Array.from({ length: n }, (_, j) => `L${i + 1}.n${j + 1}`)), last];
  const width = box.clientWidth || 560;
  const xs = columns.map((_, c) => 10 + (c * (width - NODE - 20)) / (columns.length - 1));
  const height = 40 + Math.max(...columns.map(c => c.length)) * GAP_Y;
  box.style.height = `${height}px`;
  const yOf = (c, j) => 36 + j * GAP_Y;
  const edges = svg("svg", { width, height, class: "pg-edges" });
  box.appendChild(edges);
  const byGrad = $("pg-edge-grad").checked;
  // column positions of the used features, in the order the server uses them
  const rows = [s.features.map(f => names.indexOf(f)), ...s.layers.map(n => [...Array(n).keys()]), [...Array(outputs).keys()]];
  frame.layers.forEach((layer, li) => {
    const values = byGrad ? layer.grads : layer.weights;
    const top = Math.max(...values.flat().map(Math.abs), 1e-12);
    values.forEach((row, i) => row.forEach((v, j) => {
      const y1 = yOf(li, rows[li][i]) + NODE / 2, y2 = yOf(li + 1, rows[li + 1][j]) + NODE / 2;
      const line = svg("line", {
        x1: xs[li] + NODE, y1, x2: xs[li + 1], y2,
        stroke: colour(byGrad ? v / top : v), "stroke-width": 1 + 5 * Math.min(1, Math.abs(byGrad ? v / top : v)),
        class: "pg-edge",
      });
      const name = `${columns[li + 1][j]}.w${i + 1}`;
      line.onclick = () => inspect(`weight ${name} (from ${columns[li][rows[li][i]]})`, "w", layer.weights[i][j], layer.grads[i][j]);
      edges.appendChild(line);
    }));
  });
  columns.forEach((col, c) => col.forEach((name, j) => {
    const canvas = el("canvas", { width: NODE, height: NODE, class: "pg-node", "data-id": name });
    canvas.style.left = `${xs[c]}px`;
    canvas.style.top = `${yOf(c, j)}px`;
    if (c === 0) {
      const k = s.features.indexOf(name);
      canvas.classList.toggle("off", k < 0);
      if (k >= 0) paintHeat(canvas, frame.inputs[k], frame.heat_size);
      canvas.title = `${hello.features[name]} — click to ${k < 0 ? "use" : "drop"} this feature`;
      canvas.onclick = () => {
        const next = k < 0 ? [...s.features, name] : s.features.filter(f => f !== name);
        if (next.length) change("features", names.filter(f => next.includes(f)));
      };
      const label = el("span", { class: "pg-flabel" }, hello.features[name]);
      label.style.top = `${yOf(c, j) + NODE / 2 - 9}px`;
      label.style.left = `${xs[c] + NODE + 4}px`;
      box.appendChild(label);
    } else {
      const layer = frame.layers[c - 1];
      paintHeat(canvas, layer.heat[j], frame.heat_size);
      canvas.onclick = () => inspect(`neuron ${name}: bias b`, "b", layer.biases[j], layer.bias_grads[j]);
    }
    box.appendChild(canvas);
  }));
  s.layers.forEach((n, i) => {
    const controls = el("div", { class: "pg-layerctl" });
    controls.style.left = `${xs[i + 1] - 8}px`;
    const less = el("button", {}, "−"), more = el("button", {}, "+");
    less.onclick = () => { if (n > 1) change("layers", s.layers.map((m, k) => (k === i ? m - 1 : m))); };
    more.onclick = () => { if (n < hello.limits.neurons) change("layers", s.layers.map((m, k) => (k === i ? m + 1 : m))); };
    controls.append(less, el("span", {}, String(n)), more);
    box.appendChild(controls);
  });
  if (selected) $("pg-inspect").textContent = selected();
}

function inspect(what, symbol, value, grad) {
  selected = () => `${what} = ${fmt(value)}, ∂loss/∂${symbol} = ${fmt(grad)} (epoch ${frame.epoch})`;
  $("pg-inspect").textContent = selected();
}
