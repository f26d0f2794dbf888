// The Expression tab: a formula and values go to the server (parsed there against a
// whitelist, never run); back come draw_dot's graph and the steps of trace_backward.
import { $, el, fmt, importSvg, signed, stepper, table } from "./common.js";

let ctx = null, steps = null, initial = {}, graph = null;

// A value's box is a record { name | data ... | grad ... }: its last two texts are the
// data and grad fields (as in the step-through page of viz.stepper).
function setField(group, which, value) {
  const texts = group.querySelectorAll("text");
  const t = texts[texts.length - (which === "data" ? 2 : 1)];
  if (t) t.textContent = `${which} ${value}`;
}

function apply(id, s) {
  const g = graph && graph.querySelector(`g[id="${CSS.escape(id)}"]`);
  if (!g) return;
  if (s.data !== undefined) setField(g, "data", s.data);
  if (s.grad !== undefined) setField(g, "grad", s.grad);
  if (s.fill !== undefined) {
    const shape = g.querySelector("path, polygon");
    if (shape) shape.setAttribute("fill", s.fill);
  }
}

function render(k) {
  for (const [id, s] of Object.entries(initial)) apply(id, s);
  for (let i = 0; i <= k; i++) for (const [id, s] of Object.entries(steps.steps[i].set)) apply(id, s);
  graph.querySelectorAll("g.node").forEach(g => g.classList.remove("focus", "input"));
  const step = steps.steps[k];
  for (const id of step.focus || []) graph.querySelector(`g[id="${CSS.escape(id)}"]`)?.classList.add("focus");
  for (const id of step.inputs || []) graph.querySelector(`g[id="${CSS.escape(id)}"]`)?.classList.add("input");
}

function build() {
  ctx.request("expression", { type: "expression", text: $("expr-text").value, variables: $("expr-vars").value });
}

export function init(context) {
  ctx = context;
  steps = stepper("expr", render);
  $("expr-build").onclick = build;
  for (const id of ["expr-text", "expr-vars"]) {
    $(id).onkeydown = e => { if (e.key === "Enter") build(); };
  }
  document.addEventListener("keydown", e => {
    if ($("tab-expression").hidden || e.target.tagName === "INPUT") return;
    if (e.key === "ArrowRight") steps.go(steps.current + 1);
    if (e.key === "ArrowLeft") steps.go(steps.current - 1);
  });
}

export function start(hello) {
  $("expr-functions").textContent = hello.functions.join(", ");
  for (const [id, key] of [["expr-text", "text"], ["expr-vars", "variables"]]) {  // the schema's defaults
    if (!$(id).value) $(id).value = hello.tabs.expression.properties[key].default;
  }
  build();
}

export function onMessage(view) {
  graph = importSvg($("expr-graph"), view.svg);
  initial = view.initial;
  $("expr-out").textContent = view.out === null ? "nan (not a number)" : String(view.out);
  table($("expr-grads"), ["variable", "value", "∂out/∂variable"],
    view.gradients.map(g => [g.name, fmt(g.data), signed(g.grad)]));
  if (view.unused.length) ctx.showError(`note: ${view.unused.join(", ")} not in the expression`);
  steps.load(view.steps, 0);
}

export function onError() {
  $("expr-out").textContent = "—";
}
