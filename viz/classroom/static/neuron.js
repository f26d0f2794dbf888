// The Neuron tab: sliders and number fields for x, w, b; every change goes to the server,
// which answers with the walk through the neuron and its loss (viz/scene.py), then
// draw_dot's graph as SVG; the player reveals the numbers step by step.
import { $, el, importSvg } from "./common.js";
import { Player, dotView, nodeTable, readout } from "./player.js";
import { build, defaults, fromUrl, toUrl } from "./settings.js";

let ctx = null, graph = null, shape = "", player = null;
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

// The sliders' names are the walk's (nn.names: x1, w1, ..., b), in the order of its values.
export function nameParams(box, view) {
  const names = view.shown.values.map(id => view.scene.nodes[id].name);
  box.querySelectorAll(".pname").forEach((label, k) => { if (names[k]) label.textContent = names[k]; });
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
  player = new Player($("neuron-player"), { scope: $("tab-neuron") });
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

// The views of one neuron's walk, on the tab or in a Jupyter widget: the drawing
// (graph() gives its <svg>, which may come later), the output in full, the formula, the
// table of every input, weight and bias, and the loss report after a step of "Learn".
export function neuronViews(view, { graph, out, formula, table, report = null }) {
  const shown = view.shown;
  const views = [
    dotView(graph),
    readout(out, shown.out, { full: true }),
    readout(formula, shown.out, { prefix: view.formula_text, signed: false }),
    nodeTable(table, [["value", "name"], ["data", "data"], ["∂loss/∂value", "grad"], ["after", "after"]], shown.values),
  ];
  if (report) views.push(lossReport(report, view));
  return views;
}

// "loss before → after" once a step of gradient descent was taken (the new loss shows
// once the walk reveals it), else the loss as the walk reveals it.
function lossReport(node, view) {
  return {
    render(p) {
      const now = p.known(view.shown.loss);
      node.replaceChildren();
      const line = el("div", { id: "neuron-loss" });
      if (view.step) {
        const before = view.step.loss_before;
        const dropped = now && typeof now.value === "number" && now.value < before;
        line.textContent = `loss ${before.toPrecision(6)} → ${now ? now.value.toPrecision(6) : "?"}` +
          (dropped ? "  (dropped)" : "");
      } else {
        line.textContent = `loss = (out − target)² = ${now ? now.text : "?"}`;
      }
      node.appendChild(line);
    },
  };
}

export function onMessage(view) {
  if (view.type === "neuron") ctx.saveUrl();
  if (view.type === "neuron.graph") {  // the exact drawing, laid out anew
    graph = importSvg($("neuron-graph"), view.svg);
    shape = `${view.state.x.length} ${view.state.activation}`;
    player.render();
    return;
  }
  if (view.step) {  // the server moved w and b: take its numbers, move the sliders
    Object.assign(state, view.state);
    buildParams();
  }
  nameParams($("neuron-params"), view);
  // the drawing on screen, while it has the same boxes (a new layout follows the numbers)
  const key = `${view.state.x.length} ${view.state.activation}`;
  player.views = neuronViews(view, {
    graph: () => (shape === key ? graph : null),
    out: $("neuron-out"), formula: $("neuron-formula"), table: $("neuron-grads"), report: $("neuron-report"),
  });
  // a neuron first shows explored: its backward pass done, every number but the update's
  player.load(view.scene, { keep: Boolean(player.scene), at: "update" });
}

export function onError() {}
