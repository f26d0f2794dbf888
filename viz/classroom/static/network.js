// The Network tab: a small MLP on one sample, drawn as neurons and edges. The server
// sends its walk (viz/scene.py: forward neuron by neuron, the loss, backward line by line
// from trace_backward, the SGD update); the player reveals the numbers one step at a time.
import { $, colour, svg } from "./common.js";
import { Player, nodeTable, signClass } from "./player.js";
import { build, defaults, fromUrl, toUrl } from "./settings.js";

let ctx = null, net = null, undo = null;
// The settings, their controls and the last ones the server took: all from the Network
// tab's schema (a field that does not parse goes as typed: the server names the setting).
let schema = null, s = null, controls = {}, lastGood = null, link = null;

export function urlParams() {
  if (!s) return link ? Object.fromEntries(link) : {};
  return toUrl(schema, s);
}

function send(reset = false) {
  // Undo (offered when the walk starts again): the settings the server took last, and
  // the step the walk was at
  const before = { settings: structuredClone(lastGood), at: net.player.index };
  undo = before.settings && (() => {
    undo = null;
    s = before.settings;
    for (const [key, c] of Object.entries(controls)) c.set(s[key]);
    ctx.request("network", { type: "network", settings: s, at: before.at });
  });
  ctx.request("network", { type: "network", settings: s, reset });
}

function change(key, value) {
  s[key] = value;
  if (JSON.stringify(s) !== JSON.stringify(lastGood)) send();  // (a field's Enter, then change)
}

// The drawing of a network view (an <svg> element the page sizes): inputs, neurons in
// columns, an edge per weight, the loss; each number once the player has revealed it.
// `layout` is the view's `network` (the node ids of every input, neuron, weight, output
// and the loss). It is laid out in CSS px at the size the page gives it, again whenever
// that changes, in the theme's type (--bp-label, --bp-small): browser zoom or presenter
// mode make the layout tighter, never the text smaller. No label overlaps a neuron or
// another label: each takes the first free place of a few, the step's own labels first,
// and one that finds none is left out (the table and the step's text carry every number).
export function networkDrawing(root, layout) {
  let shown = null;
  if (typeof ResizeObserver !== "undefined") {
    let size = "";
    new ResizeObserver(() => {
      const now = `${root.clientWidth}x${root.clientHeight}`;
      if (shown && now !== size) { size = now; draw(shown); }
    }).observe(root);
  }
  // Which drawn thing a node is: its neuron (output, pre-activation, bias), its edge
  // (a weight), the loss box (the loss and the nodes on the way to it), an input.
  const owner = {};
  layout.inputs.forEach(id => { owner[id] = id; });
  for (const col of layout.layers) {
    for (const n of col) {
      for (const id of [n.out, n.z, n.b]) owner[id] = n.out;
      for (const w of n.w) owner[w] = w;
    }
  }

  function draw(player) {
    const W = root.clientWidth || 900, H = root.clientHeight || 440;
    root.setAttribute("viewBox", `0 0 ${W} ${H}`);
    root.replaceChildren();
    if (!player.step) return;
    const step = player.step, scene = player.scene;
    const target = step.input || step.node;
    const focus = target in owner ? owner[target] : target && scene.nodes[target] ? "loss" : "";
    const known = (id, field = "data") => player.known(id, field);
    const L = cssSize(root, "--bp-label", 15), S = cssSize(root, "--bp-small", 12);
    const thick = cssSize(root, "--bp-line", 1);
    const labels = new Labels(root, W, H);

    // ---- the layout: columns from the inputs to the last layer, the loss box right
    const columns = [layout.inputs.map(id => ({ out: id, name: player.name(id) })), ...layout.layers];
    const widest = Math.max(...columns.map(c => c.length));
    const loss = known(layout.loss);
    const lossWidth = Math.max(labels.width(player.name(layout.loss), "nname", L),
      labels.width(loss ? loss.text : "0.00000", "nvalue", L)) + 24;
    const top = L * 1.8, bottom = S * 2.8;
    const gap = Math.min(L * 7, (H - top - bottom) / Math.max(widest - 0.2, 1));
    const valueWidth = labels.width("0.9526", "nvalue", L);
    let x0 = 12 + Math.max(L * 1.6, labels.width("L1.n1", "nname", L) / 2);
    // right of the last layer: its outputs' names, or a value beside a small neuron (a
    // narrow drawing keeps room for the names only)
    const oname = labels.width("out2", "oname", S);
    const spacingFor = (beside, half, left = x0) =>
      (W - 12 - lossWidth - beside - 16 - half - left) / Math.max(columns.length - 1, 1);
    let spacing = spacingFor(Math.max(oname, W > 600 ? valueWidth : 0), Math.min(valueWidth / 2 + 8, gap * 0.4));
    const r = Math.max(6, Math.min(valueWidth / 2 + 8, gap * 0.4, spacing * 0.3));
    const roomy = gap >= 2 * r + L * 1.6 + S * 2.6 && widest <= 4;
    // Each neuron's value inside it: a circle when the widest value of the walk fits one,
    // else a pill as wide as that value (names over it, no value beside the last layer), if
    // the columns leave the room; failing both, circles with the values beside them, off
    // the edges.
    const nodes = new Set(columns.flat().map(n => n.out));
    const texts = ["?", ...player.steps.flatMap(st => (st.reveal || []).filter(v => v.field === "data" && nodes.has(v.node)).map(v => v.text))];
    const widestText = z => Math.max(...texts.map(t => labels.width(t, "nvalue", z)));
    let a = r, ry = r, inner = [L, S].find(z => widestText(z) <= 2 * r - 6);
    if (!inner) {
      const half = Math.max(S * 0.75, Math.min(r, (gap - L * 1.6) / 2)), text = S * 0.6;
      const wide = Math.max(half, widestText(S) / 2 - Math.sqrt(Math.max(half * half - text * text, 0)) + half + 4);
      const left = Math.max(x0, wide + 4), pills = spacingFor(oname, wide, left);
      if (wide <= pills * 0.4 && 2 * half <= gap - 4) [a, ry, inner, spacing, x0] = [wide, half, S, pills, left];
    }
    const pos = {};
    columns.forEach((col, c) => {
      const x = x0 + c * spacing;
      col.forEach((n, j) => { pos[n.out] = [x, top + (H - top - bottom) / 2 + (j - (col.length - 1) / 2) * gap]; });
    });

    // ---- edges, coloured by their gradient once the backward pass reaches them
    const edges = [];
    layout.layers.forEach((col, li) => col.forEach((n, j) => n.w.forEach((w, i) => {
      const from = li === 0 ? layout.inputs[i] : layout.layers[li - 1][i].out;
      edges.push({ w, from, to: n.out, j, targets: col.length });
    })));
    const grads = edges.map(e => Math.abs((known(e.w, "grad") || {}).value ?? 0));
    const biggest = Math.max(...grads, 1e-12);
    for (const e of edges) {
      const [p, q] = [pos[e.from], pos[e.to]];
      const g = known(e.w, "grad");
      const value = g ? g.value ?? 0 : 0;
      // square-root scale, never paler than a quarter: small gradients keep their sign
      const strength = !g || value === 0 ? 0 : 0.25 + 0.75 * Math.sqrt(Math.abs(value) / biggest);
      const width = (g ? 2 + 8 * strength : 2) * Math.sqrt(thick);
      labels.line(p, q, width);
      root.appendChild(svg("line", {
        x1: p[0], y1: p[1], x2: q[0], y2: q[1], "stroke-width": width,
        stroke: g ? colour(Math.sign(value) * strength) : "#c8c8c8",
        class: `edge${focus === e.w ? " focus" : ""}`, "data-id": player.name(e.w),
      }));
    }
    const [lx, ly] = [W - 12 - lossWidth / 2, top + (H - top - bottom) / 2];
    for (const n of layout.layers[layout.layers.length - 1]) {
      const [x, y] = pos[n.out];
      labels.line([x, y], [lx - lossWidth / 2, ly]);
      root.appendChild(svg("line", { x1: x, y1: y, x2: lx - lossWidth / 2, y2: ly, stroke: "#999", "stroke-width": 2 }));
    }

    // ---- neurons and the loss box: fixed; a value inside its neuron when it fits
    const outside = [];
    for (const n of columns.flat()) {
      const [x, y] = pos[n.out];
      const v = known(n.out);
      const look = {
        class: `neuron${focus === n.out ? " focus" : ""}`, "data-id": n.name,
        fill: v && typeof v.value === "number" ? colour(0.4 * Math.tanh(v.value)) : "#ffffff",
      };
      root.appendChild(a === r ? svg("circle", { cx: x, cy: y, r, ...look })
        : svg("rect", { x: x - a, y: y - ry, width: 2 * a, height: 2 * ry, rx: ry, ...look }));
      labels.take(x - a, y - ry, 2 * a, 2 * ry);
      const text = v ? v.text : "?";
      const size = [L, S].find(z => z <= (inner ?? L) && labels.width(text, "nvalue", z) <= 2 * a - 6);  // the small type before outside
      if (size) {
        root.appendChild(svg("text", { x, y: y + size * 0.35, class: "nvalue inside", "data-id": n.name, "font-size": size }, text));
      } else {
        outside.push([n, text]);
      }
    }
    root.appendChild(svg("rect", { x: lx - lossWidth / 2, y: ly - L * 1.5, width: lossWidth, height: L * 3, rx: 10,
      class: `lossbox${focus === "loss" ? " focus" : ""}` }));
    labels.take(lx - lossWidth / 2, ly - L * 1.5, lossWidth, L * 3);
    root.appendChild(svg("text", { x: lx, y: ly - L * 0.2, class: "nname inside", "font-size": L }, player.name(layout.loss)));
    root.appendChild(svg("text", { x: lx, y: ly + L * 1.05, class: "nvalue lossvalue inside", "font-size": L }, loss ? loss.text : "?"));

    // ---- labels, the step's own first
    const edgeLabel = e => {
      const [p, q] = [pos[e.from], pos[e.to]];
      const w = known(e.w), after = known(e.w, "after");
      const text = `${player.name(e.w).split(".").pop()}=${w ? w.text : "?"}${after ? ` → ${after.text}` : ""}`;
      const t0 = 0.2 + (0.5 * e.j) / Math.max(1, e.targets - 1);
      const places = [t0, 0.5, 0.3, 0.7, 0.2, 0.8, 0.4, 0.6].map(t => [p[0] + (q[0] - p[0]) * t, p[1] + (q[1] - p[1]) * t - 4]);
      labels.place(text, "wlabel", S, places);
    };
    const name = n => {
      const [x, y] = pos[n.out];
      const right = [x + a + 4, y - ry * 0.5, "start"], left = [x - a - 4, y - ry * 0.5, "end"];
      const sides = columns[0].includes(n) ? [left, right] : [right, left];  // an input's left has no edges
      return labels.place(n.name, "nname", L, [[x, y - ry - L * 0.35]], "prefer") ||
        labels.place(n.name, "nname side", L, sides, "prefer") ||
        labels.place(n.name, "nname side", S, [right, [x + a + 2, y + S * 0.35, "start"], left], "prefer");
    };
    const details = n => {
      const [x, y] = pos[n.out];
      const b = n.b && known(n.b), g = n.b && known(n.out, "grad");
      if (b) labels.place(`b=${b.text}`, "nbias", S, [[x, y + ry + S * 1.1], [x + a + 4, y + ry, "start"]], "prefer");
      if (g) labels.place(`grad ${g.text}`, "ngrad", S, [[x, y + ry + S * 2.3], [x + a + 4, y + ry + S * 1.2, "start"]], "prefer");
    };
    // a value outside its neuron: off the edges if it can be, where it would read as an
    // edge's (under, over, beside, at a corner), else under or over it
    const value = ([n, text]) => {
      const [x, y] = pos[n.out];
      const sides = [[x + a + 4, y + L * 0.35, "start"], [x - a - 4, y + L * 0.35, "end"]];
      const ends = [[x, y + ry + L], [x, y - ry - L * 0.35]];
      const corners = [[x + a, y - ry, "start"], [x - a, y - ry, "end"], [x + a, y + ry + L * 0.8, "start"], [x - a, y + ry + L * 0.8, "end"]];
      labels.place(text, "nvalue", L, [...ends, ...sides, ...corners], "avoid") || labels.place(text, "nvalue", L, ends);
    };
    const hot = columns.flat().find(n => n.out === focus);
    const last = layout.layers[layout.layers.length - 1];
    if (hot) {
      name(hot);
      const v = outside.find(([n]) => n === hot);
      if (v) value(v);
      details(hot);
    }
    const hotEdge = edges.find(e => e.w === focus);
    if (hotEdge) edgeLabel(hotEdge);
    outside.forEach(v => { if (v[0] !== hot) value(v); });
    columns.flat().forEach(n => { if (n !== hot) name(n); });
    for (const n of last) {  // the network's outputs by name, beside their neuron
      const [x, y] = pos[n.out];
      labels.place(player.name(n.out), "oname", S,
        [[x + a + 6, y + S * 1.3, "start"], [x + a + 6, y - ry * 0.6, "start"], [x, y + ry + S * 1.2], [x - a - 4, y + ry, "end"]], "prefer");
    }
    if (roomy) columns.slice(1).flat().forEach(n => { if (n !== hot) details(n); });
    if (edges.length <= 24) edges.forEach(e => { if (e !== hotEdge) edgeLabel(e); });
  }

  return { render(player) { shown = player; draw(player); } };
}

// A size of the theme (theme.css: --bp-label, ...) as the element inherits it, in CSS px;
// `otherwise` where the sheet is not loaded.
export function cssSize(element, name, otherwise) {
  const size = parseFloat(getComputedStyle(element).getPropertyValue(name));
  return Number.isFinite(size) ? size : otherwise;
}

// Labels placed one by one into the free parts of a drawing: `take` marks a box as used,
// `line` a line (p to q, as wide as `width`) to keep off, `place` puts a text at the first
// of its places ([x, y], or [x, y, anchor]: "middle" unless said) where its box is free and
// inside the drawing (returns its element, or null); off every line ("avoid"), off them if
// one of its places is ("prefer"), or across them ("ignore", a weight's label on its edge).
class Labels {
  constructor(root, W, H) { this.root = root; this.W = W; this.H = H; this.used = []; this.lines = []; this.sizes = new Map(); }

  take(x, y, w, h) { this.used.push({ x, y, w, h }); }

  line(p, q, width = 2) { this.lines.push([p[0], p[1], q[0], q[1], width / 2]); }

  // the box of `text` around its anchor (0, 0): measured once per text, class and size
  box(text, cls, size, anchor) {
    const key = `${text}|${cls}|${size}|${anchor}`;
    if (!this.sizes.has(key)) {
      const t = svg("text", { x: 0, y: 0, class: cls, "font-size": size, "text-anchor": anchor }, text);
      this.root.appendChild(t);
      const b = t.getBBox();
      t.remove();
      this.sizes.set(key, { x: b.x, y: b.y, w: b.width, h: b.height });
    }
    return this.sizes.get(key);
  }

  width(text, cls, size) { return this.box(text, cls, size, "middle").w; }

  place(text, cls, size, places, lines = "ignore") {
    if (lines === "prefer") return this.place(text, cls, size, places, "avoid") || this.place(text, cls, size, places);
    const pad = 1;
    for (const [x, y, anchor = "middle"] of places) {
      const b = this.box(text, cls, size, anchor);
      const r = { x: x + b.x - pad, y: y + b.y - pad, w: b.w + 2 * pad, h: b.h + 2 * pad };
      if (r.x < 0 || r.y < 0 || r.x + r.w > this.W || r.y + r.h > this.H) continue;
      if (this.used.some(u => r.x < u.x + u.w && u.x < r.x + r.w && r.y < u.y + u.h && u.y < r.y + r.h)) continue;
      if (lines === "avoid" && this.lines.some(l => crosses(l, r))) continue;
      this.used.push(r);
      const t = svg("text", { x, y, class: cls, "font-size": size, "text-anchor": anchor }, text);
      this.root.appendChild(t);
      return t;
    }
    return null;
  }
}

// Whether a line [x1, y1, x2, y2, half its width] crosses a box (clipped to it, Liang-Barsky).
function crosses([x1, y1, x2, y2, half], r) {
  const dx = x2 - x1, dy = y2 - y1;
  let t0 = 0, t1 = 1;
  for (const [p, q] of [[-dx, x1 - r.x + half], [dx, r.x + r.w + half - x1], [-dy, y1 - r.y + half], [dy, r.y + r.h + half - y1]]) {
    if (p === 0) { if (q < 0) return false; continue; }
    const t = q / p;
    if (p < 0) { if (t > t1) return false; t0 = Math.max(t0, t); } else { if (t < t0) return false; t1 = Math.min(t1, t); }
  }
  return true;
}

// The network's outputs and loss, for the numbers beside the drawing: each once revealed.
function outputsView(output, loss, layout) {
  return {
    render(player) {
      const outs = layout.outputs.map(id => player.known(id));
      output.textContent = outs.map(r => (r ? String(r.value ?? r.text) : "?")).join(", ");
      const l = player.known(layout.loss);
      loss.textContent = l ? l.text : "?";
      loss.className = l ? signClass(l.value) : "";
    },
  };
}

// The player, drawing, table and numbers of one network view: the tab's, or a Jupyter
// widget's. find(id) looks an element up (the page: by id; a widget: inside its own
// element); every id is `${prefix}-...` (player, svg, table, output, loss).
export function networkView(find = $, prefix = "net", scope = undefined) {
  const player = new Player(find(`${prefix}-player`), { scope: scope || find(`${prefix}-player`) });
  let layoutKey = null;
  return {
    player,
    load(view, options = {}) {
      const layout = view.network;
      player.views = [
        networkDrawing(find(`${prefix}-svg`), layout),
        nodeTable(find(`${prefix}-table`), [["param", "name"], ["value", "data"], ["∂loss/∂param", "grad"], ["after", "after"]]),
        outputsView(find(`${prefix}-output`), find(`${prefix}-loss`), layout),
      ];
      const key = JSON.stringify(layout.layers.map(col => col.length));
      player.load(view.scene, { keep: key === layoutKey, ...options });
      layoutKey = key;
    },
  };
}

export function init(context) {
  ctx = context;
  net = networkView($, "net", $("tab-network"));
  $("net-reset").onclick = () => send(true);
  if (ctx.hashParams().get("tab") === "network") link = ctx.hashParams();
  $("net-update").onclick = () => ctx.request("network", { type: "network.update" });
}

export function start(hello) {
  if (!s) {  // the first hello: the schema, then the link's settings
    schema = hello.tabs.network;
    s = link ? fromUrl(schema, link) : defaults(schema);
  }
  controls = build($("tab-network"), schema, s, change, "net");
  send();
}

export function onMessage(view) {
  s = structuredClone(view.settings);
  lastGood = structuredClone(s);
  for (const [key, c] of Object.entries(controls)) c.set(s[key]);
  ctx.saveUrl();
  $("net-updates").textContent = String(view.updates);
  net.load(view, view.at === undefined ? { undo } : { at: view.at });
}

// A setting the server refused stays on screen with its message; the next change
// starts again from the last settings it took.
export function onError() {
  if (lastGood) s = structuredClone(lastGood);
}
