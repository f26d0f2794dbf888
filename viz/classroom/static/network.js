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

// The drawing of a network view (an <svg> element): inputs, neurons in columns, an edge
// per weight, the loss; each number once the player has revealed it. `layout` is the
// view's `network` (the node ids of every input, neuron, weight, output and the loss).
export function networkDrawing(root, layout) {
  let H = 440;  // taller for wide layers

  function place() {
    const columns = [layout.inputs.map(id => ({ id })), ...layout.layers];
    const pos = {};
    const x0 = 70, x1 = 670;
    const widest = Math.max(...columns.map(c => c.length));
    H = Math.max(440, widest * 58 + 50);
    root.setAttribute("viewBox", `0 0 900 ${H}`);
    const gap = Math.min(170, (H - 50) / widest);
    columns.forEach((col, c) => {
      const x = x0 + (c * (x1 - x0)) / (columns.length - 1);
      col.forEach((n, j) => { pos[n.out || n.id] = [x, H / 2 + (j - (col.length - 1) / 2) * gap]; });
    });
    return { pos, r: Math.min(34, gap * 0.36), roomy: gap >= 120 };
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

  return {
    render(player) {
      const step = player.step, scene = player.scene;
      const target = step.input || step.node;
      const focus = target in owner ? owner[target] : target && scene.nodes[target] ? "loss" : "";
      const { pos, r, roomy } = place();
      root.replaceChildren();
      const known = (id, field = "data") => player.known(id, field);
      const edges = [];
      layout.layers.forEach((col, li) => col.forEach((n, j) => n.w.forEach((w, i) => {
        const from = li === 0 ? layout.inputs[i] : layout.layers[li - 1][i].out;
        edges.push({ w, from, to: n.out, j, targets: col.length });
      })));
      const grads = edges.map(e => Math.abs((known(e.w, "grad") || {}).value ?? 0));
      const top = Math.max(...grads, 1e-12);
      const labels = edges.length <= 24;
      for (const e of edges) {
        const a = pos[e.from], b = pos[e.to];
        const g = known(e.w, "grad");
        const value = g ? g.value ?? 0 : 0;
        // square-root scale, never paler than a quarter: small gradients keep their sign
        const size = !g || value === 0 ? 0 : 0.25 + 0.75 * Math.sqrt(Math.abs(value) / top);
        root.appendChild(svg("line", {
          x1: a[0], y1: a[1], x2: b[0], y2: b[1], "stroke-width": g ? 2 + 8 * size : 2,
          stroke: g ? colour(Math.sign(value) * size) : "#c8c8c8",
          class: `edge${focus === e.w ? " focus" : ""}`, "data-id": player.name(e.w),
        }));
        if (labels || focus === e.w) {
          const t = 0.2 + (0.5 * e.j) / Math.max(1, e.targets - 1);
          const w = known(e.w), after = known(e.w, "after");
          const text = `${player.name(e.w).split(".").pop()}=${w ? w.text : "?"}${after ? ` → ${after.text}` : ""}`;
          root.appendChild(svg("text", { x: a[0] + (b[0] - a[0]) * t, y: a[1] + (b[1] - a[1]) * t - 6, class: "wlabel" }, text));
        }
      }
      const circle = (id, caption, bias) => {
        const [x, y] = pos[id];
        const hot = focus === id;
        const v = known(id);
        root.appendChild(svg("circle", {
          cx: x, cy: y, r, class: `neuron${hot ? " focus" : ""}`, "data-id": caption,
          fill: v && typeof v.value === "number" ? colour(0.4 * Math.tanh(v.value)) : "#ffffff",
        }));
        root.appendChild(roomy
          ? svg("text", { x, y: y - r - 8, class: "nname" }, caption)
          : svg("text", { x: x + r + 4, y: y - r + 4, class: "nname side" }, caption));
        root.appendChild(svg("text", { x, y: y + 6, class: "nvalue", "data-id": caption, "font-size": Math.round(Math.min(18, r * 0.55)) },
          v ? v.text : "?"));
        if (!roomy && !hot) return;  // a big layer: the table and the step text carry the rest
        const b = bias && known(bias), g = bias && known(id, "grad");
        if (b) root.appendChild(svg("text", { x, y: y + r + 18, class: "nbias" }, `b=${b.text}`));
        if (g) root.appendChild(svg("text", { x, y: y + r + 36, class: "ngrad" }, `grad ${g.text}`));
      };
      const [lx, ly] = [835, H / 2];
      const last = layout.layers[layout.layers.length - 1];
      last.forEach(n => {
        const [x, y] = pos[n.out];
        root.appendChild(svg("line", { x1: x, y1: y, x2: lx - 55, y2: ly, stroke: "#999", "stroke-width": 2 }));
      });
      layout.inputs.forEach(id => circle(id, player.name(id)));
      layout.layers.forEach(col => col.forEach(n => circle(n.out, n.name, n.b)));
      last.forEach(n => {  // the network's outputs by name, beside their neuron
        const [x, y] = pos[n.out];
        root.appendChild(svg("text", { x: x + r + 6, y: y + 22, class: "oname" }, player.name(n.out)));
      });
      root.appendChild(svg("rect", { x: lx - 55, y: ly - 32, width: 110, height: 64, rx: 10,
        class: `lossbox${focus === "loss" ? " focus" : ""}` }));
      root.appendChild(svg("text", { x: lx, y: ly - 8, class: "nname" }, player.name(layout.loss)));
      const loss = known(layout.loss);
      root.appendChild(svg("text", { x: lx, y: ly + 18, class: "nvalue lossvalue" }, loss ? loss.text : "?"));
    },
  };
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
