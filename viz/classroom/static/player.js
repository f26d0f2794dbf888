// The one step-through player: the step-through page (viz.backprop_html, which writes this
// module into the page), the Expression, Neuron and Network tabs and the Jupyter widgets
// all play a scene (viz/scene.py: nodes with their names, steps with their texts and the
// numbers each reveals) with it. It words nothing and names nothing itself: every title,
// text and name comes from the scene, every number from a step's `reveal`.
//
//   const player = new Player(element, { scope });   // builds its controls in element
//   player.addView(dotView(svg));                    // views draw what is known so far
//   player.load(scene, { at: 0 });
//
// A view is { render(player) }, called after every change; it asks player.known(id, field)
// ({ text, value } once a step up to the current one revealed it, else null), player.step,
// player.name(id). Keys (document-wide, for the player in view): see KEYS.
// This file has no imports (the step-through page holds it inline) and never sets HTML:
// text goes in with textContent. Its look is player.css (linked by the live page, part of
// the widgets' CSS, written into the step-through page).

export const KEYS = [
  [["→", "PageDown", "Space"], "next step"],
  [["←", "PageUp"], "previous step"],
  [["Home", "End"], "first / last step"],
  [["P", "Shift+P"], "next / previous phase (forward → loss → backward → update)"],
  [["L", "Shift+L"], "next / previous layer"],
  [["K"], "play / pause"],
  [["A"], "show all (every number, for review)"],
  [["D"], "every line of a long step"],
  [["?"], "this list of keys"],
];

const PLAY_MS = 1200;
const TEXT_INPUTS = new Set(["text", "search", "number", "email", "url", "tel", "password"]);
const players = new Set();
const byRoot = new WeakMap();  // the player built in an element (the class session's follow)
let active = null;

// The player built in `root`, if any (a class session moves a student's to the teacher's step).
export function playerIn(root) { return byRoot.get(root) || null; }

function make(tag, attrs = {}, text = null) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== null) node.textContent = text;
  return node;
}

export class Player {
  constructor(root, { scope = root, interval = PLAY_MS } = {}) {
    this.root = root;
    this.scope = scope;
    this.interval = interval;
    this.scene = null;
    this.index = 0;
    this.views = [];
    this.timer = null;
    this.cache = null;
    this.build();
    players.add(this);
    byRoot.set(root, this);
    active = this;
    const claim = () => { active = this; };
    scope.addEventListener("pointerdown", claim);
    scope.addEventListener("focusin", claim);
    installKeys();
  }

  // ------------------------------------------------------------ controls
  build() {
    const root = this.root;
    root.classList.add("bp-player");
    root.replaceChildren();
    const bar = make("div", { class: "bp-bar" });
    this.buttons = {};
    for (const [act, text, title] of [
      ["first", "« First", "first step (Home)"],
      ["prev", "◀ Prev", "previous step (← or PageUp)"],
      ["next", "Next ▶", "next step (→, PageDown or Space)"],
      ["last", "Last »", "last step (End)"],
      ["phase", "Phase »", "next phase: forward → loss → backward → update (P)"],
      ["layer", "Layer »", "next layer (L)"],
      ["play", "▶ Play", "play / pause (K)"],
    ]) {
      const button = make("button", { type: "button", "data-act": act, title }, text);
      button.addEventListener("click", () => { this.act(act); button.blur(); });
      this.buttons[act] = button;
      bar.appendChild(button);
    }
    this.phaseBadge = make("span", { class: "bp-phase" });
    this.counter = make("span", { class: "bp-counter" });
    const help = make("button", { type: "button", class: "bp-helpbutton", "data-act": "help", title: "keys (?)" }, "?");
    help.addEventListener("click", () => { this.toggleHelp(); help.blur(); });
    bar.append(this.phaseBadge, this.counter, help);
    const options = make("div", { class: "bp-options" });
    this.all = this.checkbox(options, "all", "show all", "every number at once, for review (A)");
    this.detail = this.checkbox(options, "detail", "every line", "a long step's every line (D)");
    this.undoBar = make("span", { class: "bp-undo", hidden: "" });
    options.appendChild(this.undoBar);
    const panel = make("div", { class: "bp-panel" });
    this.title = make("div", { class: "bp-title" });
    this.text = make("div", { class: "bp-text" });
    panel.append(this.title, this.text);
    this.help = make("div", { class: "bp-help", role: "dialog", hidden: "" });
    this.help.appendChild(make("div", { class: "bp-help-title" }, "Keys"));
    const list = make("table");
    for (const [keys, what] of KEYS) {
      const row = make("tr");
      row.append(make("td", { class: "bp-keys" }, keys.join("  ")), make("td", {}, what));
      list.appendChild(row);
    }
    this.help.append(list, make("div", { class: "bp-help-note" }, "A clicker's buttons send PageDown / PageUp. Esc or ? closes this."));
    root.append(bar, options, panel, this.help);
  }

  checkbox(parent, name, text, title) {
    const label = make("label", { class: `bp-${name}`, title });
    const box = make("input", { type: "checkbox", "data-act": name });
    box.addEventListener("change", () => { box.blur(); this.render(); });
    label.append(box, document.createTextNode(` ${text}`));
    parent.appendChild(label);
    return box;
  }

  toggleHelp(show = this.help.hidden) { this.help.hidden = !show; }

  // ------------------------------------------------------------ the walk
  get steps() { return this.scene ? this.scene.steps : []; }
  get step() { return this.steps[this.index] || null; }
  get showAll() { return this.all.checked; }
  set showAll(on) { this.all.checked = Boolean(on); this.render(); }

  // Load a scene. `at`: the step to show ("last" for the end; a phase, "update": the step
  // just before it, or the end); `keep`: stay at the same step when the new scene has as
  // many (new numbers, same walk); `undo`: a function offered as "Undo" when the walk
  // restarted from a later step.
  load(scene, { at = 0, keep = false, undo = null } = {}) {
    const before = this.index, sameWalk = this.scene && this.scene.steps.length === scene.steps.length;
    if (typeof at === "string" && at !== "last") {
      const first = scene.steps.findIndex(s => s.phase === at);
      at = first > 0 ? first - 1 : "last";
    }
    this.scene = scene;
    this.cache = null;
    this.detail.parentElement.hidden = !scene.steps.some(s => s.detail);
    this.buttons.layer.hidden = !scene.steps.some(s => s.layer !== null && s.layer !== undefined);
    let k = at === "last" ? scene.steps.length - 1 : at;
    if (keep && sameWalk) k = before;
    if (undo && before > 0 && !(keep && sameWalk)) this.offerUndo("The walk started again.", undo);
    this.go(k);
  }

  offerUndo(message, undo = null) {
    const bar = this.undoBar;
    bar.replaceChildren();
    bar.hidden = !message;
    if (!message) return;
    bar.appendChild(document.createTextNode(`${message} `));
    if (undo) {
      const button = make("button", { type: "button", "data-act": "undo" }, "Undo");
      button.addEventListener("click", () => { bar.hidden = true; undo(); });
      bar.appendChild(button);
    }
  }

  go(k) {
    if (!this.steps.length) return;
    this.index = Math.max(0, Math.min(this.steps.length - 1, k));
    this.render();
    // the class session's teacher page tells the room which step it shows
    this.root.dispatchEvent(new CustomEvent("player:step", { bubbles: true, detail: this.index }));
  }

  // Forward: the first step after this one that `differs(step, here)` puts in another
  // group (phase, or phase and layer); back: the first step of this group, or of the last.
  jump(differs, direction = 1) {
    const steps = this.steps, here = this.step;
    if (!here) return;
    if (direction > 0) {
      for (let k = this.index + 1; k < steps.length; k++) if (differs(steps[k], here)) return this.go(k);
      return this.go(steps.length - 1);
    }
    // back: to the start of the previous group (or of this one, when inside it)
    let k = this.index;
    while (k > 0 && !differs(steps[k - 1], here)) k--;
    if (k < this.index) return this.go(k);
    if (k === 0) return this.go(0);
    const previous = steps[k - 1];
    while (k > 1 && !differs(steps[k - 2], previous)) k--;
    return this.go(k - 1);
  }

  act(what) {
    const phaseChanged = (a, b) => a.phase !== b.phase;
    const layerChanged = (a, b) => a.phase !== b.phase || a.layer !== b.layer;
    if (what !== "play" && this.timer) this.pause();
    if (!["help", "closehelp", "all", "detail"].includes(what)) this.offerUndo(null);
    switch (what) {
      case "first": return this.go(0);
      case "prev": return this.go(this.index - 1);
      case "next": return this.go(this.index + 1);
      case "last": return this.go(this.steps.length - 1);
      case "phase": return this.jump(phaseChanged, 1);
      case "prevphase": return this.jump(phaseChanged, -1);
      case "layer": return this.jump(layerChanged, 1);
      case "prevlayer": return this.jump(layerChanged, -1);
      case "play": return this.timer ? this.pause() : this.play();
      case "all": this.all.checked = !this.all.checked; return this.render();
      case "detail": this.detail.checked = !this.detail.checked; return this.render();
      case "help": return this.toggleHelp();
      case "closehelp": return this.toggleHelp(false);
    }
  }

  play() {
    if (!this.steps.length) return;
    if (this.index === this.steps.length - 1) this.go(0);
    this.buttons.play.textContent = "❚❚ Pause";
    this.timer = setInterval(() => {
      if (this.index >= this.steps.length - 1) this.pause();
      else this.go(this.index + 1);
    }, this.interval);
  }

  pause() {
    clearInterval(this.timer);
    this.timer = null;
    this.buttons.play.textContent = "▶ Play";
  }

  // ------------------------------------------------------------ what is known
  // { text, value } of a node's field ("data", "grad" or "after") as revealed by the steps
  // up to the current one (every step with "show all"), or null.
  known(id, field = "data") {
    const upto = this.showAll ? this.steps.length - 1 : this.index;
    if (!this.cache || this.cache.upto !== upto) {
      const seen = { data: new Map(), grad: new Map(), after: new Map() };
      for (let k = 0; k <= upto; k++) {
        for (const r of this.steps[k].reveal || []) seen[r.field].set(r.node, r);
      }
      this.cache = { upto, seen };
    }
    return this.cache.seen[field].get(id) || null;
  }

  // The steps whose drawing states apply now (the drawing's `set`s, in order).
  shownSteps() {
    const upto = this.showAll ? this.steps.length - 1 : this.index;
    return this.steps.slice(0, upto + 1);
  }

  name(id) { return this.scene && this.scene.nodes[id] ? this.scene.nodes[id].name : ""; }

  addView(view) { this.views.push(view); if (this.scene) view.render(this); return view; }

  render() {
    const step = this.step;
    if (!step) return;
    this.title.textContent = step.title;
    this.text.textContent = this.detail.checked && step.detail ? step.detail : step.text;
    this.phaseBadge.textContent = step.phase;
    this.phaseBadge.className = `bp-phase ${step.phase}`;
    this.counter.textContent = `step ${this.index + 1} / ${this.steps.length}`;
    this.buttons.prev.disabled = this.buttons.first.disabled = this.index === 0;
    const atEnd = this.index === this.steps.length - 1;
    for (const name of ["next", "last", "phase", "layer"]) this.buttons[name].disabled = atEnd;
    for (const view of this.views) view.render(this);
  }
}

// ------------------------------------------------------------ keys
// One listener for the page: the keys go to the player in view that was used last.
// Typing in a text field is never taken; a clicker's PageDown / PageUp always steps. A
// focused menu or slider never takes ← → PageUp PageDown Home End (a clicker must not
// change a setting, rebuilding the network), nor ↑ ↓ unless the keyboard put the focus
// there, except a slider the user clicked into: its arrows, Home and End are its own.
// Space on a focused button or box steps instead of pressing it again.
const ACTIONS = {
  ArrowRight: "next", PageDown: "next", " ": "next", ArrowLeft: "prev", PageUp: "prev",
  Home: "first", End: "last", p: "phase", P: "prevphase", l: "layer", L: "prevlayer",
  k: "play", K: "play", a: "all", A: "all", d: "detail", D: "detail", "?": "help", Escape: "closehelp",
};
const byPointer = new WeakSet();
let keysInstalled = false, lastPointer = -1e9;

function installKeys() {
  if (keysInstalled) return;
  keysInstalled = true;
  // a new size or theme (the page's presenter mode): draw again, fitted to it
  const again = () => { for (const p of players) if (visible(p)) p.render(); };
  window.addEventListener("resize", again);
  window.addEventListener("bp-theme", again);
  window.addEventListener("pointerdown", () => { lastPointer = performance.now(); }, true);
  window.addEventListener("focusin", e => {
    if (performance.now() - lastPointer < 800) byPointer.add(e.target);
    else byPointer.delete(e.target);
  }, true);
  window.addEventListener("keydown", onKey, true);
}

function visible(player) {
  return player.root.isConnected && player.root.getClientRects().length > 0 && player.scene;
}

function current() {
  const shown = [...players].filter(visible);
  if (active && shown.includes(active)) return active;
  return shown[0] || null;
}

function onKey(e) {
  if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
  const action = ACTIONS[e.key];
  if (!action) return;
  const player = current();
  if (!player) return;
  const t = e.target, tag = t && t.tagName;
  const paging = e.key === "PageDown" || e.key === "PageUp";
  const typing = t && (t.isContentEditable || tag === "TEXTAREA" || (tag === "INPUT" && TEXT_INPUTS.has(t.type)));
  if (typing && !paging) return;
  const setting = tag === "SELECT" || (tag === "INPUT" && t.type === "range");
  // a slider the user clicked into takes its own arrow keys (Home, End too)
  if (tag === "INPUT" && t.type === "range" && byPointer.has(t) && !paging && e.key !== " ") return;
  if (setting && (e.key === "ArrowUp" || e.key === "ArrowDown")) {
    if (byPointer.has(t)) e.preventDefault();
    return;
  }
  if (e.key === "Escape" && player.help.hidden) return;
  e.preventDefault();
  player.act(action);
}

// ------------------------------------------------------------ views
// The sign of a number as a class: "pos" (blue), "neg" (orange) or "" for zero / unknown.
export function signClass(value) {
  return typeof value !== "number" ? "" : value > 0 ? "pos" : value < 0 ? "neg" : "";
}

// draw_dot's drawing (an <svg> element, or a function giving it: it may come later): each
// unit's texts and fill as the scene's states up to the current step set them, the step's
// boxes, inputs and edges lit, and the lit part scrolled into view.
export function dotView(drawing) {
  return {
    render(player) {
      const scene = player.scene;
      const svg = typeof drawing === "function" ? drawing() : drawing;
      if (!svg || !scene.initial) return;
      const lookup = id => svg.querySelector(`g[id="${CSS.escape(id)}"]`);
      for (const [id, state] of Object.entries(scene.initial)) applyState(lookup(id), state);
      for (const step of player.shownSteps()) {
        for (const [id, state] of Object.entries(step.set || {})) applyState(lookup(id), state);
      }
      svg.querySelectorAll("g.focus, g.input, g.hot").forEach(g => g.classList.remove("focus", "input", "hot"));
      const step = player.step, lit = { focus: [], input: [], hot: [] };
      for (const [ids, cls] of [[step.focus, "focus"], [step.inputs, "input"], [step.edges, "hot"]]) {
        for (const id of ids || []) {
          const g = lookup(id);
          if (g) { g.classList.add(cls); lit[cls].push(g); }
        }
      }
      // what the step writes new numbers into: a backward step's receivers, else its boxes
      const written = step.phase === "backward" && lit.input.length ? lit.input : lit.focus;
      if (!zoom(svg, [...lit.focus, ...lit.input], written)) reveal([...lit.focus, ...lit.input], written);
    },
  };
}

// A unit's texts are addressed from its end (1 = last), so its name, whatever it holds,
// never shifts them: a value {"data", "grad", "fill"}, a box {"t": {"1": ...}, "fill"}.
function applyState(g, state) {
  if (!g) return;
  const texts = g.querySelectorAll("text");
  if (state.data !== undefined && texts.length >= 3) texts[texts.length - 2].textContent = `data ${state.data}`;
  if (state.grad !== undefined && texts.length >= 3) texts[texts.length - 1].textContent = `grad ${state.grad}`;
  for (const [k, value] of Object.entries(state.t || {})) {
    const t = texts[texts.length - Number(k)];
    if (t) t.textContent = value;
  }
  if (state.fill !== undefined) {
    const shape = g.querySelector("path, polygon");
    if (shape) shape.setAttribute("fill", state.fill);
  }
}

// A drawing inside a .bp-fit box (the live page's presenter mode) is scaled to fit it,
// never scrolled. When that makes its type smaller than the page's --bp-label, its
// viewBox zooms into the lit elements, just enough for that size; when they cannot all
// fit, into those the step writes into, then the first of them (as `reveal` scrolls).
// Returns whether the drawing is a fitted one (its full view restored outside a .bp-fit).
function zoom(svg, elements, written) {
  if (svg.dataset.fullView === undefined) svg.dataset.fullView = svg.getAttribute("viewBox") || "";
  const full = svg.dataset.fullView.split(/[\s,]+/).map(Number);
  const fitted = Boolean(svg.closest(".bp-fit"));
  if (full.length === 4) svg.setAttribute("viewBox", svg.dataset.fullView);
  if (!fitted || full.length !== 4 || !elements.length) return fitted;
  const cw = svg.clientWidth, ch = svg.clientHeight;
  const type = parseFloat((svg.querySelector("text") || svg).getAttribute("font-size"));
  const want = parseFloat(getComputedStyle(svg).getPropertyValue("--bp-label"));
  if (!(type > 0 && want > 0) || !cw || !ch || Math.min(cw / full[2], ch / full[3]) * type >= want) return true;
  const w = (cw * type) / want, h = (ch * type) / want;  // the window, in drawing units
  const toDrawing = svg.getScreenCTM().inverse();
  const span = list => {
    const corners = list.flatMap(e => {
      const r = e.getBoundingClientRect();
      return [new DOMPoint(r.left, r.top), new DOMPoint(r.right, r.bottom)].map(p => p.matrixTransform(toDrawing));
    });
    const xs = corners.map(p => p.x), ys = corners.map(p => p.y);
    return { x: Math.min(...xs), y: Math.min(...ys), w: Math.max(...xs) - Math.min(...xs), h: Math.max(...ys) - Math.min(...ys) };
  };
  const fits = a => a.w <= w * 0.95 && a.h <= h * 0.95;
  let area = span(elements);
  if (!fits(area)) area = span(written.length ? written : elements);
  if (!fits(area)) area = span([(written.length ? written : elements)[0]]);
  const place = (centre, size, start, extent) =>
    size >= extent ? start + (extent - size) / 2 : Math.max(start, Math.min(start + extent - size, centre - size / 2));
  const x = place(area.x + area.w / 2, w, full[0], full[2]), y = place(area.y + area.h / 2, h, full[1], full[3]);
  svg.setAttribute("viewBox", `${x} ${y} ${w} ${h}`);
  return true;
}

// Scroll the nearest scrolling box so that the lit elements are all in view (the gradient's
// receivers too, not only the box handing it on); when they cannot all fit, those the step
// writes into (`written`), and when even they cannot, the first of them.
function reveal(elements, written = elements) {
  if (!elements.length) return;
  let box = elements[0].ownerSVGElement ? elements[0].ownerSVGElement.parentElement : null;
  while (box && !(box.scrollHeight > box.clientHeight + 1 || box.scrollWidth > box.clientWidth + 1)) box = box.parentElement;
  if (!box || box === document.body || box === document.documentElement) return;
  const outer = box.getBoundingClientRect();
  const span = list => {
    const rects = list.map(e => e.getBoundingClientRect());
    return {
      left: Math.min(...rects.map(r => r.left)), right: Math.max(...rects.map(r => r.right)),
      top: Math.min(...rects.map(r => r.top)), bottom: Math.max(...rects.map(r => r.bottom)),
    };
  };
  const fits = r => r.right - r.left <= box.clientWidth - 16 && r.bottom - r.top <= box.clientHeight - 16;
  let area = span(elements);
  if (!fits(area)) area = span(written.length ? written : elements);
  if (!fits(area)) area = span([(written.length ? written : elements)[0]]);
  const { left, right, top, bottom } = area;
  const margin = 8;
  if (left < outer.left + margin) box.scrollLeft -= outer.left + margin - left;
  else if (right > outer.left + box.clientWidth - margin) box.scrollLeft += right - (outer.left + box.clientWidth - margin);
  if (top < outer.top + margin) box.scrollTop -= outer.top + margin - top;
  else if (bottom > outer.top + box.clientHeight - margin) box.scrollTop += bottom - (outer.top + box.clientHeight - margin);
}

// One number on the page: a node's field once revealed, else "?". `full`: the number in
// full (the engine's own digits) rather than the step's 4; coloured by its sign (`signed`).
export function readout(el, id, { field = "data", full = false, prefix = "", unknown = "?", signed = true } = {}) {
  return {
    render(player) {
      const node = typeof id === "function" ? id(player) : id;
      const r = node ? player.known(node, field) : null;
      const shown = r === null ? unknown : full && typeof r.value === "number" ? String(r.value) : r.text;
      el.textContent = `${prefix}${shown}`;
      el.classList.remove("pos", "neg");
      const cls = r && signed ? signClass(r.value) : "";
      if (cls) el.classList.add(cls);
    },
  };
}

// A table of nodes: a row per id (the scene's params unless given), columns
// [head, field] with field "name", "data", "grad" or "after"; unknown cells read "?"
// ("" for "after"), gradients coloured by sign. Each row carries data-name.
export function nodeTable(table, columns, ids = null) {
  return {
    render(player) {
      const rows = typeof ids === "function" ? ids(player) : ids || player.scene.params;
      table.replaceChildren();
      const head = make("tr");
      for (const [text] of columns) head.appendChild(make("th", {}, text));
      table.appendChild(head);
      for (const id of rows) {
        const tr = make("tr", { "data-name": player.name(id) });
        for (const [, field] of columns) {
          if (field === "name") { tr.appendChild(make("td", {}, player.name(id))); continue; }
          const r = player.known(id, field);
          const td = make("td", {}, r ? r.text : field === "after" ? "" : "?");
          if (r && field === "grad") td.className = signClass(r.value);
          tr.appendChild(td);
        }
        table.appendChild(tr);
      }
    },
  };
}
