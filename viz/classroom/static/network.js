// The Network tab: a small MLP on one sample, drawn as neurons and edges. The server
// sends every step (forward neuron by neuron, the loss, backward from trace_backward, the
// SGD update); stepping through them reveals the numbers one by one.
import { $, colour, fmt, signed, stepper, svg, table } from "./common.js";
import { build, defaults, fromUrl, toUrl } from "./settings.js";

let ctx = null, steps = null, net = null;
// The settings, their controls and the last ones the server took: all from the Network
// tab's schema (a field that does not parse goes as typed: the server names the setting).
let schema = null, s = null, controls = {}, lastGood = null, link = null;

export function urlParams() {
  if (!s) return link ? Object.fromEntries(link) : {};
  return toUrl(schema, s);
}

function send(reset = false) {
  ctx.request("network", { type: "network", settings: s, reset });
}

function change(key, value) {
  s[key] = value;
  send();
}

// The drawing and the step-through of one network view: the tab's, or a Jupyter widget's.
// find(id) looks an element up (the page: by id in the document; a widget: inside its own
// element); every id is `${prefix}-...` (svg, table and the stepper's buttons).
export function networkView(find = $, prefix = "net") {
  let view = null;
  let H = 440;  // the drawing's height: taller for wide layers

  // What the steps up to k have revealed: neuron outputs, the loss, gradients, new weights.
  function known(k) {
    const seen = { out: {}, grad: {}, loss: null, after: {} };
    for (let i = 0; i <= k; i++) {
      const r = view.steps[i].reveal || {};
      Object.assign(seen.out, r.out || {});
      Object.assign(seen.grad, r.grad || {});
      Object.assign(seen.after, r.after || {});
      if (r.loss !== undefined) seen.loss = r.loss;
    }
    return seen;
  }

  // Columns of neurons; the spacing (and what fits around a neuron) follows the widest layer.
  function layout() {
    const columns = [view.inputs, ...view.neurons];
    const pos = {};
    const x0 = 70, x1 = 670;
    const widest = Math.max(...columns.map(c => c.length));
    H = Math.max(440, widest * 58 + 50);
    find(`${prefix}-svg`).setAttribute("viewBox", `0 0 900 ${H}`);
    const gap = Math.min(170, (H - 50) / widest);
    columns.forEach((col, c) => {
      const x = x0 + (c * (x1 - x0)) / (columns.length - 1);
      col.forEach((n, j) => { pos[n.id] = [x, H / 2 + (j - (col.length - 1) / 2) * gap]; });
    });
    return { pos, r: Math.min(34, gap * 0.36), roomy: gap >= 120 };
  }

  function draw(k) {
    const seen = known(k);
    const focus = view.steps[k].focus || "";
    const { pos, r, roomy } = layout();
    const root = find(`${prefix}-svg`);
    root.replaceChildren();
    const grads = view.edges.map(e => Math.abs(seen.grad[e.id] ?? 0));
    const top = Math.max(...grads, 1e-12);
    const labels = view.edges.length <= 24;
    for (const e of view.edges) {
      const a = pos[e.from[0] === 0 ? view.inputs[e.from[1]].id : view.neurons[e.from[0] - 1][e.from[1]].id];
      const b = pos[view.neurons[e.to[0] - 1][e.to[1]].id];
      const g = seen.grad[e.id];
      // square-root scale, and never paler than a quarter: small gradients keep their sign
      const size = g === undefined || g === 0 ? 0 : 0.25 + 0.75 * Math.sqrt(Math.abs(g) / top);
      const line = svg("line", {
        x1: a[0], y1: a[1], x2: b[0], y2: b[1], "stroke-width": g === undefined ? 2 : 2 + 8 * size,
        stroke: g === undefined ? "#c8c8c8" : colour(Math.sign(g) * size),
        class: `edge${focus === e.id ? " focus" : ""}`, "data-id": e.id,
      });
      root.appendChild(line);
      if (labels || focus === e.id) {
        const targets = view.neurons[e.to[0] - 1].length;
        const t = 0.2 + (0.5 * e.to[1]) / Math.max(1, targets - 1);
        const after = seen.after[e.id];
        const text = `${e.id.split(".").pop()}=${fmt(e.w)}${after !== undefined ? ` → ${fmt(after)}` : ""}`;
        root.appendChild(svg("text", {
          x: a[0] + (b[0] - a[0]) * t, y: a[1] + (b[1] - a[1]) * t - 6, class: "wlabel",
        }, text));
      }
    }
    const circle = (id, value, grad, bias) => {
      const [x, y] = pos[id];
      const hot = focus === id || focus.startsWith(`${id}.`);
      root.appendChild(svg("circle", {
        cx: x, cy: y, r, class: `neuron${hot ? " focus" : ""}`, "data-id": id,
        fill: value === undefined ? "#ffffff" : colour(0.4 * Math.tanh(value)),  // pale, opaque
      }));
      root.appendChild(roomy
        ? svg("text", { x, y: y - r - 8, class: "nname" }, id)
        : svg("text", { x: x + r + 4, y: y - r + 4, class: "nname side" }, id));
      root.appendChild(svg("text", { x, y: y + 6, class: "nvalue", "data-id": id, "font-size": Math.round(Math.min(18, r * 0.55)) },
        value === undefined ? "?" : fmt(value)));
      if (!roomy && !hot) return;  // a big layer: the table and the step text carry the rest
      if (bias !== undefined) root.appendChild(svg("text", { x, y: y + r + 18, class: "nbias" }, `b=${fmt(bias)}`));
      if (grad !== undefined) root.appendChild(svg("text", { x, y: y + r + 36, class: "ngrad" }, `grad ${fmt(grad)}`));
    };
    const [lx, ly] = [835, H / 2];
    for (const n of view.neurons[view.neurons.length - 1]) {
      const [x, y] = pos[n.id];
      root.appendChild(svg("line", { x1: x, y1: y, x2: lx - 55, y2: ly, stroke: "#999", "stroke-width": 2 }));
    }
    view.inputs.forEach(n => circle(n.id, n.value));
    view.neurons.forEach(col => col.forEach(n => circle(n.id, seen.out[n.id], seen.grad[n.id], n.b)));
    root.appendChild(svg("rect", { x: lx - 55, y: ly - 32, width: 110, height: 64, rx: 10,
      class: `lossbox${focus === "loss" ? " focus" : ""}` }));
    root.appendChild(svg("text", { x: lx, y: ly - 8, class: "nname" }, "loss"));
    root.appendChild(svg("text", { x: lx, y: ly + 18, class: "nvalue", id: "net-loss-value" },
      seen.loss === null ? "?" : fmt(seen.loss)));
    drawTable(seen);
  }

  function drawTable(seen) {
    const rows = view.update.map(u => {
      const g = seen.grad[u.name];
      const after = seen.after[u.name];
      return [u.name, fmt(u.before), g === undefined ? "?" : signed(g), after === undefined ? "" : fmt(after)];
    });
    table(find(`${prefix}-table`), ["param", "value", "∂loss/∂param", "after"], rows);
    find(`${prefix}-table`).querySelectorAll("tr").forEach((tr, i) => {
      if (i > 0) tr.dataset.name = view.update[i - 1].name;
    });
  }

  const steps = stepper(prefix, draw, find);
  return { steps, load(v, at = 0) { view = v; steps.load(v.steps, at); } };
}

export function init(context) {
  ctx = context;
  net = networkView();
  steps = net.steps;
  $("net-reset").onclick = () => send(true);
  if (ctx.hashParams().get("tab") === "network") link = ctx.hashParams();
  $("net-update").onclick = () => ctx.request("network", { type: "network.update" });
  document.addEventListener("keydown", e => {
    if ($("tab-network").hidden || e.target.tagName === "INPUT") return;
    if (e.key === "ArrowRight") steps.go(steps.current + 1);
    if (e.key === "ArrowLeft") steps.go(steps.current - 1);
  });
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
  $("net-output").textContent = view.output.map(String).join(", ");
  $("net-loss").textContent = fmt(view.loss);
  $("net-updates").textContent = String(view.updates);
  net.load(view);
}

// A setting the server refused stays on screen with its message; the next change
// starts again from the last settings it took.
export function onError() {
  if (lastGood) s = structuredClone(lastGood);
}
