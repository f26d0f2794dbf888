// The Expression tab: a formula and values go to the server (parsed there against a
// whitelist, never run); back come draw_dot's graph and its walk (viz/scene.py), which
// the player reveals step by step.
import { $, importSvg } from "./common.js";
import { Player, dotView, nodeTable, readout } from "./player.js";

let ctx = null, player = null;

function build() {
  ctx.request("expression", { type: "expression", text: $("expr-text").value, variables: $("expr-vars").value });
}

export function init(context) {
  ctx = context;
  player = new Player($("expr-player"), { scope: $("tab-expression") });
  $("expr-build").onclick = build;
  for (const id of ["expr-text", "expr-vars"]) {
    $(id).onkeydown = e => { if (e.key === "Enter") build(); };
  }
}

export function start(hello) {
  $("expr-functions").textContent = hello.functions.join(", ");
  for (const [id, key] of [["expr-text", "text"], ["expr-vars", "variables"]]) {  // the schema's defaults
    if (!$(id).value) $(id).value = hello.tabs.expression.properties[key].default;
  }
  build();
}

export function onMessage(view) {
  const graph = importSvg($("expr-graph"), view.svg);
  player.views = [
    dotView(graph),
    readout($("expr-out"), view.shown.out, { full: true }),
    nodeTable($("expr-grads"), [["variable", "name"], ["value", "data"], ["gradient", "grad"]], view.shown.values),
  ];
  if (view.unused.length) ctx.showError(`note: ${view.unused.join(", ")} not in the expression`);
  player.load(view.scene);
}

export function onError() {
  $("expr-out").textContent = "—";
}
