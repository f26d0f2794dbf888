// The Jupyter widgets (anywidget): the Neuron and Network tabs and draw_dot's graph in a
// notebook.
// Python computes every number (viz.classroom.lessons, the live tab's own functions) and
// syncs it through the widget's traits; this module only draws, with the live page's
// helpers and its one step-through player. viz/classroom/widgets.py links these modules
// in the browser (no build step).
import { colour, el, fmt, importSvg, svg } from "./common.js";
import { networkView } from "./network.js";
import { nameParams, neuronViews, slider } from "./neuron.js";
import { Player, dotView, nodeTable } from "./player.js";
import { paintClasses, paintHeat, paintPoints, showPlaying } from "./playground.js";
import { control } from "./settings.js";

let count = 0;  // a prefix per widget: several may share one notebook page

// A widget's root: its classes, and JupyterLab's notebook shortcuts kept off its keys
// (its sliders and its player take them; Lumino stops at this attribute).
function widgetRoot(root, ...classes) {
  root.classList.add("bpl-widget", ...classes);
  root.setAttribute("data-lm-suppress-shortcuts", "true");
}

function save(model, name, value) {
  model.set(name, value);
  model.save_changes();
}

// Sliders for x, w and b. Python may move them too (w = [...]): then the same inputs take
// the new numbers, so a slider being dragged is never replaced under the pointer.
function params(model, prefix) {
  const box = el("div", { class: "params" });
  let shown = -1;
  const sync = () => {
    const x = model.get("x"), w = model.get("w"), b = model.get("b");
    if (x.length !== shown) {
      shown = x.length;
      box.replaceChildren();
      x.forEach((v, i) => {
        box.appendChild(slider(`x${i + 1}`, v, val => {
          const a = [...model.get("x")]; a[i] = val; save(model, "x", a);
        }, prefix));
        box.appendChild(slider(`w${i + 1}`, w[i], val => {
          const a = [...model.get("w")]; a[i] = val; save(model, "w", a);
        }, prefix));
      });
      box.appendChild(slider("b", b, val => save(model, "b", val), prefix));
      return;
    }
    const values = { b };
    x.forEach((v, i) => { values[`x${i + 1}`] = v; values[`w${i + 1}`] = w[i]; });
    for (const [name, v] of Object.entries(values)) {
      for (const input of box.querySelectorAll(`[id^="${prefix}-${name}"]`)) {
        if (Number(input.value) !== v) input.value = String(v);
      }
    }
  };
  sync();
  return { box, sync };
}

function renderNeuron({ model, el: root }) {
  const prefix = `bpl-neuron-${++count}`;
  widgetRoot(root);
  const { box, sync } = params(model, prefix);
  const select = el("select", { class: "activation" });
  for (const a of model.get("activations")) select.appendChild(el("option", { value: a }, a));
  select.value = model.get("activation");
  select.onchange = () => save(model, "activation", select.value);
  const out = el("span", { class: "big out" });
  const formula = el("div", { class: "formula" });
  const error = el("div", { class: "error" });
  const grads = el("table", { class: "numbers grads" });
  const picture = el("div", { class: "graph" });
  const side = el("div", { class: "side" });
  const line = el("div", { class: "bigline" }, "out = ");
  line.appendChild(out);
  const label = el("label", {}, "activation ");
  label.appendChild(select);
  side.append(box, label, line, formula, error, grads);
  const bar = el("div", { class: "stepbar" });
  root.append(bar, side, picture);
  const player = new Player(bar, { scope: root });

  let graph = null;
  const showView = () => {
    const view = model.get("view");
    error.textContent = model.get("error");
    if (!view || !view.scene) return;
    nameParams(box, view);
    player.views = neuronViews(view, { graph: () => graph, out, formula, table: grads });
    player.load(view.scene, { keep: Boolean(player.scene), at: "update" });
  };
  const showGraph = () => { graph = importSvg(picture, model.get("svg")); if (player.scene) player.render(); };
  const showActivation = () => { select.value = model.get("activation"); };
  showGraph();
  showView();
  const handlers = [
    ["change:view", showView], ["change:error", showView], ["change:svg", showGraph],
    ["change:x", sync], ["change:w", sync], ["change:b", sync],
    ["change:activation", showActivation],
  ];
  for (const [event, f] of handlers) model.on(event, f);
  return () => { for (const [event, f] of handlers) model.off(event, f); };
}

// draw_dot's drawing of any Value, its walk (the player starts at the end: the drawing
// as it is) and a table of every labelled value's data and gradient.
function renderGraph({ model, el: root }) {
  widgetRoot(root);
  const bar = el("div", { class: "stepbar" });
  const picture = el("div", { class: "graph" });
  const grads = el("table", { class: "numbers grads" });
  root.append(bar, picture, grads);
  const player = new Player(bar, { scope: root });
  const show = () => {
    const svgRoot = importSvg(picture, model.get("svg"));
    const walk = model.get("scene");
    if (!walk || !walk.scene) return;
    player.views = [
      dotView(svgRoot),
      nodeTable(grads, [["value", "name"], ["data", "data"], ["grad", "grad"]], walk.rows),
    ];
    player.load(walk.scene, { at: "last" });
  };
  show();
  model.on("change:svg", show);
  model.on("change:scene", show);
  return () => { model.off("change:svg", show); model.off("change:scene", show); };
}

// The Network tab's drawing and walk (network.js's own), for a model in Python:
// "Apply the SGD update" asks Python to step, which answers with the new view.
function renderNetwork({ model, el: root }) {
  const prefix = `bpl-net-${++count}`;
  const id = name => `${prefix}-${name}`;
  widgetRoot(root, "bpl-network");
  const row = el("div", { class: "row" });
  const updates = el("b", { class: "updates" });
  for (const [name, node] of [["output", el("b", { id: id("output"), class: "output" })],
    ["loss", el("b", { id: id("loss"), class: "loss" })], ["updates", updates]]) {
    const item = el("span", {}, `${name} `);
    item.appendChild(node);
    row.appendChild(item);
  }
  const button = el("button", { class: "primary update" }, "Apply the SGD update");
  button.onclick = () => model.send({ type: "update" });
  const side = el("div", { class: "side" });
  side.append(row, button, el("table", { id: id("table"), class: "numbers" }));
  const main = el("div", { class: "main" });
  main.append(el("div", { id: id("player") }), svg("svg", { id: id("svg"), class: "netsvg", viewBox: "0 0 900 440" }));
  root.append(side, main);

  const net = networkView(name => root.querySelector(`[id="${CSS.escape(name)}"]`), prefix, root);
  const show = () => {
    const view = model.get("view");
    if (!view || !view.scene) return;
    updates.textContent = String(view.updates);
    net.load(view);
  };
  show();
  model.on("change:view", show);
  return () => model.off("change:view", show);
}

// The Playground tab for a run trained in Python (trainer.py's Trainer, the live tab's
// own): the buttons ask Python to step, play, pause or reset; each frame is drawn with
// playground.js's painters (the boundary and the points, a heatmap per neuron) and the
// edges coloured by weight.
const PG_NODE = 40, PG_GAP = 48;

function renderPlayground({ model, el: root }) {
  widgetRoot(root, "bpl-playground");
  const bar = el("div", { class: "row" });
  const buttons = {};
  for (const [name, text] of [["play", "Play"], ["step", "Step"], ["reset", "Reset"]]) {
    buttons[name] = el("button", { class: name }, text);
    bar.appendChild(buttons[name]);
  }
  buttons.play.onclick = () => model.send({ type: model.get("playing") ? "pause" : "play" });
  buttons.step.onclick = () => model.send({ type: "step" });
  buttons.reset.onclick = () => model.send({ type: "reset" });
  const numbers = {};
  for (const [name, text] of [["epoch", "epoch"], ["train", "train loss"], ["test", "test loss"]]) {
    const item = el("span", {}, `${text} `);
    numbers[name] = el("b", { class: name });
    item.appendChild(numbers[name]);
    bar.appendChild(item);
  }
  const settings = el("div", { class: "settings" });
  // the settings a menu changes here (the others are traits: pg.layers = [8, 8]), built
  // from the Playground's schema as the page's are
  const controls = el("div", { class: "row controls" });
  const schema = model.get("schema"), prefix = `bpl-pg-${++count}`;
  const menus = {};
  for (const name of ["dataset", "activation", "lr", "reg"]) {
    const prop = { ...schema.properties[name], control: null };  // a menu here, buttons on the page
    menus[name] = control({ ...schema, properties: { [name]: prop } }, name, model.get(name),
      v => save(model, name, v), prefix);
    menus[name].node.querySelector("select").classList.add(name);
    controls.appendChild(menus[name].node);
  }
  const error = el("div", { class: "error" });
  const boundary = el("canvas", { class: "boundary", width: 300, height: 300 });
  const net = el("div", { class: "pg-net" });
  const side = el("div", { class: "side" });
  side.append(bar, controls, settings, error, boundary);
  root.append(side, net);

  const showSettings = () => {
    for (const [name, menu] of Object.entries(menus)) menu.set(model.get(name));
    const f = model.get("features").join(", "), l = model.get("layers").join("-") || "none";
    settings.textContent = `${model.get("dataset")} · noise ${model.get("noise")} · features ${f} · ` +
      `hidden ${l} · ${model.get("activation")} · lr ${model.get("lr")} · ${model.get("reg")} ` +
      `${model.get("rate")} · batch ${model.get("batch")} · seed ${model.get("seed")}`;
  };
  const playing = () => showPlaying(buttons.play, model.get("playing"));
  const show = () => {
    const frame = model.get("frame"), points = model.get("points");
    error.textContent = model.get("error");
    if (!frame || !frame.layers) return;
    numbers.epoch.textContent = String(frame.epoch).padStart(6, "0");
    numbers.train.textContent = fmt(frame.train_loss);
    numbers.test.textContent = fmt(frame.test_loss);
    const discrete = model.get("discretize");
    if (frame.boundary_classes) paintClasses(boundary, frame.boundary_classes, frame.boundary, frame.boundary_size, discrete);
    else paintHeat(boundary, frame.boundary, frame.boundary_size, discrete);
    if (points && points.train) paintPoints(boundary, points, Boolean(frame.boundary_classes), model.get("show_test"));
    drawNet(net, frame);
  };
  showSettings();
  playing();
  show();
  const handlers = [
    ["change:frame", show], ["change:points", show], ["change:error", show],
    ["change:playing", playing],
    ...Object.keys(schema.properties).map(k => [`change:${k}`, showSettings]),
    ["change:show_test", show], ["change:discretize", show],
  ];
  for (const [event, f] of handlers) model.on(event, f);
  return () => { for (const [event, f] of handlers) model.off(event, f); };
}

// The used features, the hidden layers and the output, a heatmap each; edges by weight.
function drawNet(box, frame) {
  const columns = [frame.inputs, ...frame.layers.map(layer => layer.heat)];
  const width = 120 + 110 * (columns.length - 1);
  const height = 20 + Math.max(...columns.map(c => c.length)) * PG_GAP;
  const x = c => 10 + c * 110, y = j => 10 + j * PG_GAP;
  const edges = svg("svg", { width, height, class: "pg-edges" });
  frame.layers.forEach((layer, li) => layer.weights.forEach((row, i) => row.forEach((w, j) => {
    edges.appendChild(svg("line", {
      x1: x(li) + PG_NODE, y1: y(i) + PG_NODE / 2, x2: x(li + 1), y2: y(j) + PG_NODE / 2,
      stroke: colour(w), "stroke-width": 1 + 5 * Math.min(1, Math.abs(w)), class: "pg-edge",
    }));
  })));
  box.replaceChildren(edges);
  box.style.height = `${height}px`;
  columns.forEach((heat, c) => heat.forEach((b64, j) => {
    const canvas = el("canvas", { width: PG_NODE, height: PG_NODE, class: "pg-node" });
    canvas.style.left = `${x(c)}px`;
    canvas.style.top = `${y(j)}px`;
    paintHeat(canvas, b64, frame.heat_size);
    box.appendChild(canvas);
  }));
}

export const playground = { render: renderPlayground };
export const neuron = { render: renderNeuron };
export const network = { render: renderNetwork };
export const graph = { render: renderGraph };
