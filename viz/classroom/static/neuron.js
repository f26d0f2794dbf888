// The Neuron tab: sliders and number fields for x, w, b; every change goes to the server,
// which answers with the output, the formula with numbers and draw_dot's graph as SVG.
import { $, el, fmt, importSvg, signed, table } from "./common.js";
import { build, defaults, fromUrl, toUrl } from "./settings.js";

let ctx = null, graph = null, shape = "";
// The seed neuron and its limits come from the Neuron tab's schema (with the first hello).
let schema = null, state = null, controls = {}, link = null;

export function urlParams() {
  if (!state) return link ? Object.fromEntries(link) : {};
  return toUrl(schema, state);
}

// A parameter's slider and number field, kept in step (ids: `${prefix}-${name}`).
export function slider(name, value, onChange, prefix = "neuron") {
  const row = el("div", { class: "param" });
  row.appendChild(el("span", { class: "pname" }, name));
  const range = el("input", { type: "range", min: "-6", max: "6", step: "0.1", id: `${prefix}-${name}-range` });
  const field = el("input", { type: "number", step: "0.1", id: `${prefix}-${name}` });
  range.value = String(value);
  field.value = String(value);
  range.oninput = () => { field.value = range.value; onChange(Number(range.value)); };
  field.oninput = () => {
    const v = Number(field.value);
    if (field.value.trim() === "" || !Number.isFinite(v)) return;
    range.value = String(v);
    onChange(v);
  };
  row.append(range, field);
  return row;
}

function buildParams() {
  const box = $("neuron-params");
  box.replaceChildren();
  state.x.forEach((v, i) => {
    box.appendChild(slider(`x${i + 1}`, v, val => { state.x[i] = val; update(); }));
    box.appendChild(slider(`w${i + 1}`, state.w[i], val => { state.w[i] = val; update(); }));
  });
  box.appendChild(slider("b", state.b, val => { state.b = val; update(); }));
}

function update() {
  ctx.request("neuron", { type: "neuron", state });
}

export function init(context) {
  ctx = context;
  $("neuron-more").onclick = () => {
    if (state.x.length >= schema.properties.x.maxItems) return;
    state.x.push(1); state.w.push(0); buildParams(); update();
  };
  $("neuron-less").onclick = () => {
    if (state.x.length <= 1) return;
    state.x.pop(); state.w.pop(); buildParams(); update();
  };
  $("neuron-step").onclick = () => ctx.request("neuron", { type: "neuron.step", state });
  if (ctx.hashParams().get("tab") === "neuron") link = ctx.hashParams();
}

export function start(hello) {
  if (!state) {  // the first hello: the schema, then the link's settings
    schema = hello.tabs.neuron;
    state = link ? fromUrl(schema, link) : defaults(schema);
  }
  controls = build($("tab-neuron"), schema, state, (key, value) => { state[key] = value; update(); }, "neuron");
  buildParams();
  update();
}

// A value's box is a record { name | data ... | grad ... }: its last two texts are the
// data and grad fields (as in viz.stepper's page). Shared with the Jupyter widget.
export function patchBox(graph, id, box) {
  const g = graph && graph.querySelector(`g[id="${CSS.escape(id)}"]`);
  if (!g) return;
  const texts = g.querySelectorAll("text");
  if (texts.length >= 3) {
    texts[texts.length - 2].textContent = `data ${box.data}`;
    texts[texts.length - 1].textContent = `grad ${box.grad}`;
  }
  const outline = g.querySelector("path, polygon");
  if (outline) outline.setAttribute("fill", box.fill);
}

// The table of every input, weight and bias with its value and gradient (view.values).
export function gradTable(node, values) {
  const rows = Object.entries(values).map(([name, v]) => [name, fmt(v.data), signed(v.grad)]);
  table(node, ["value", "data", "∂out/∂value"], rows);
  node.querySelectorAll("tr").forEach((tr, i) => {
    if (i > 0) tr.dataset.name = rows[i - 1][0];
  });
}

export function onMessage(view) {
  if (view.type === "neuron") ctx.saveUrl();
  if (view.type === "neuron.graph") {  // the exact drawing, laid out anew
    graph = importSvg($("neuron-graph"), view.svg);
    shape = `${view.state.x.length} ${view.state.activation}`;
    return;
  }
  // the drawing on screen has the same boxes: show the new numbers in it at once
  if (shape === `${view.state.x.length} ${view.state.activation}`) {
    for (const [id, box] of Object.entries(view.nodes)) patchBox(graph, id, box);
  }
  if (view.step) {  // the server moved w and b: take its numbers, move the sliders
    Object.assign(state, view.state);
    buildParams();
  }
  $("neuron-out").textContent = view.out === null ? "nan" : String(view.out);
  $("neuron-formula").textContent = view.formula;
  gradTable($("neuron-grads"), view.values);
  const report = $("neuron-report");
  report.replaceChildren();
  if (view.step) {
    const s = view.step;
    report.appendChild(el("div", { id: "neuron-loss" },
      `loss ${s.loss_before.toPrecision(6)} → ${s.loss_after.toPrecision(6)}` +
      (s.loss_after < s.loss_before ? "  (dropped)" : "")));
    const t = el("table", { class: "numbers" });
    table(t, ["param", "before", "∂loss/∂param", "after"],
      s.changes.map(c => [c.name, fmt(c.before), signed(c.grad), fmt(c.after)]));
    report.appendChild(t);
  } else {
    report.appendChild(el("div", { id: "neuron-loss" }, `loss = (out − target)² = ${fmt(view.loss)}`));
  }
}

export function onError() {}
