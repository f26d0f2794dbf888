// The class session on the page (viz/classroom/room.py): a panel that joins a class
// (#join=CODE), or drives one (#teach=TOKEN, the teacher's secret link), follows the
// teacher, asks and answers questions, and shows the answers live. Read at load, before
// the page rewrites its URL; kept in sessionStorage so a reload rejoins as the same
// student. Every name and number goes in as text; the QR code is parsed as SVG.
import { $, el, svg, fmt, importSvg, rgb } from "./common.js";
import { KEYS, playerIn } from "./player.js";
import { toUrl } from "./settings.js";

const PLAYERS = { neuron: "neuron-player", expression: "expr-player", network: "net-player" };

const link = new URLSearchParams(location.hash.slice(1));
const store = window.sessionStorage;
if (link.get("teach")) store.setItem("bpl-teach", link.get("teach"));
if (link.get("join")) store.setItem("bpl-join", link.get("join"));
const teaching = Boolean(store.getItem("bpl-teach"));
const invited = teaching || Boolean(store.getItem("bpl-join"));

let ctx = null, panel = null, question = null, answered = null, tab = "neuron", step = null;
let hello = null, racing = false;

export function init(context) {
  ctx = context;
  if (!invited) return;
  document.head.appendChild(el("link", { rel: "stylesheet", href: "/static/class.css" }));
  panel = el("aside", { id: "class-panel", class: teaching ? "teacher" : "student" });
  if (teaching) dock();  // the projector's right-hand column
  else document.body.prepend(panel);  // a phone: on top, in the page's flow
  document.addEventListener("classroom:tab", e => {
    tab = e.detail;
    const player = PLAYERS[tab] && playerIn($(PLAYERS[tab]));
    step = player && player.step ? player.index : null;
    if (teaching) ctx.send({ type: "class.show", tab, step }, true);
  });
  document.addEventListener("player:step", e => {
    if (!teaching || e.target.id !== PLAYERS[tab] || e.detail === step) return;
    step = e.detail;
    ctx.send({ type: "class.show", tab, step }, true);
  });
  teaching ? teacherPanel() : joinForm();
}

// After every hello (a new connection): say who this page is again. The teacher first
// (the tabs' first views then go to the room); a student after the tabs' own first
// views, so the teacher's, which come with the join, are the ones shown.
export function start(info) {
  hello = info;
  if (!invited) return;
  if (teaching) ctx.send({ type: "class.teach", token: store.getItem("bpl-teach") }, true);
  else if (store.getItem("bpl-student")) setTimeout(join, 0);
}

export function onMessage(m) {
  if (!panel) return;
  const on = {
    "class.teaching": welcome, "class.roster": roster, "class.joined": joined,
    "class.following": following, "class.state": state, "class.question": asked,
    "class.answered": m => { answered = m.value; showQuestion(); },
    "class.tally": m => drawTally(m, false), "class.reveal": revealed, "class.csv": download,
    "class.race": race, "class.wall": wall,
  }[m.type];
  if (on) on(m);
}

// ------------------------------------------------------------ the teacher's screen
// The panel is a column at the window's right, under the top bar; the tabs take the width
// it leaves (class.css: html.class-docked), and their drawings lay themselves out again in
// it, so the panel never covers a drawing. Folded, the column is narrow.
function dock() {
  document.body.appendChild(panel);
  const root = document.documentElement, header = document.querySelector("header");
  root.classList.add("class-docked");
  const below = () => root.style.setProperty("--class-top", `${Math.max(0, header.getBoundingClientRect().bottom)}px`);
  below();
  if (typeof ResizeObserver !== "undefined") new ResizeObserver(below).observe(header);
  window.addEventListener("resize", below);
  window.addEventListener("scroll", below, { passive: true });
  KEYS.push([["J"], "the join code full-screen, for the back row (J or Esc closes it)"]);
  window.addEventListener("keydown", joinKey);
}

function fold() {
  const folded = document.documentElement.classList.toggle("class-folded");
  panel.classList.toggle("folded", folded);
  $("class-fold").textContent = folded ? "Unfold" : "Fold";
  window.dispatchEvent(new Event("resize"));  // the drawings that follow the window's size
}

// J (a key no player, menu or field takes: typing in a field is typing) shows the join
// card, the QR code, the code and the URL as large as the window holds; J or Esc hides it.
function joinKey(e) {
  if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) return;
  const card = $("class-card");
  if (e.key === "Escape" && card && !card.hidden) { e.preventDefault(); showCard(false); return; }
  if (e.key !== "j" && e.key !== "J") return;
  const t = e.target;
  const typing = t && (t.isContentEditable || t.tagName === "TEXTAREA" ||
    (t.tagName === "INPUT" && !["checkbox", "radio", "range", "button", "file"].includes(t.type)));
  if (typing) return;
  e.preventDefault();  // a focused menu's type-to-select never sees it
  showCard(!card || card.hidden);
}

function showCard(on) {
  const card = $("class-card");
  if (card) card.hidden = !on;
}

function teacherPanel() {
  const kind = el("select", { id: "class-kind" });
  for (const [v, t] of [["grad", "∂loss/∂ a value"], ["sign", "its sign"], ["output", "the output"], ["most", "which weight changes most"]]) {
    kind.appendChild(el("option", { value: v }, t));
  }
  const target = el("input", { id: "class-target", type: "text", placeholder: "L2.n1.w1", spellcheck: "false" });
  const button = (id, text, action) => { const b = el("button", { id }, text); b.onclick = action; return b; };
  panel.replaceChildren(
    el("div", { id: "class-join", class: "class-join" }),
    el("div", { id: "class-roster", class: "class-roster" }, "no students yet"),
    el("div", { class: "class-ask" }),
    el("div", { class: "class-now" }),
    el("div", { id: "class-question", class: "class-question" }),
    el("div", { id: "class-tally", class: "class-tally" }),
  );
  panel.querySelector(".class-ask").append(
    el("span", {}, "Ask:"), kind, target,
    button("class-ask", "Ask the room", () => ctx.send({ type: "class.ask", kind: kind.value, tab: tab === "playground" ? "network" : tab, target: target.value.trim() })),
    button("class-export", "Answers (CSV)", () => ctx.send({ type: "class.export" })),
    button("class-race", "Start a race", () => ctx.send({ type: "class.race", on: !racing })),
    button("class-show-join", "Show join code (J)", () => showCard(true)),
    button("class-fold", "Fold", fold),
  );
  // while a question is open (class.css: .asking) only this row and the question show,
  // so the column fits the window; "More" brings the rest back for the question's length
  const more = button("class-more", "More", () => showMore(!panel.classList.contains("more")));
  more.setAttribute("aria-expanded", "false");
  panel.querySelector(".class-now").append(
    button("class-reveal", "Reveal", () => ctx.send({ type: "class.reveal" })),
    button("class-close", "Close", () => ctx.send({ type: "class.close" })),
    more,
  );
  panel.appendChild(el("div", { id: "class-wall", class: "class-wall" }));
}

function showMore(on) {
  panel.classList.toggle("more", on);
  const more = $("class-more");
  more.textContent = on ? "Less" : "More";
  more.setAttribute("aria-expanded", String(on));
}

function welcome(m) {
  const box = $("class-join");
  const qr = el("div", { class: "class-qr", title: "the join code, full-screen (J)" });
  importSvg(qr, m.qr);
  qr.onclick = () => showCard(true);
  box.replaceChildren(qr, el("div", { class: "class-code" }, m.code), el("div", { class: "class-url" }, m.url));
  // the join card: over the whole window, closed by a click, J or Esc
  const card = $("class-card") || document.body.appendChild(el("div", { id: "class-card", class: "class-card", role: "dialog", "aria-label": "join the class", hidden: "" }));
  const big = el("div", { class: "class-card-qr" });
  importSvg(big, m.qr);
  const words = el("div", { class: "class-card-words" });
  words.append(
    el("div", { class: "class-card-title" }, "Join the class: scan, or open"),
    el("div", { class: "class-card-url" }, m.url.replace(/^http:\/\//, "")),
    el("div", { class: "class-card-title" }, "with the code"),
    el("div", { class: "class-card-code" }, m.code),
    el("div", { class: "class-card-hint" }, "J or Esc closes this"),
  );
  card.replaceChildren(big, words);
  card.onclick = () => showCard(false);
}

function roster(m) {
  const names = m.names.length && m.names.length <= 12 ? `: ${m.names.join(", ")}` : "";
  $("class-roster").textContent = `${m.here} here · ${m.following} following${names}`;
}

// ------------------------------------------------------------ a student's screen
function joinForm() {
  const code = el("input", { id: "class-code", type: "text", value: store.getItem("bpl-join") || "", maxlength: "6", autocomplete: "off" });
  const name = el("input", { id: "class-name", type: "text", placeholder: "your name (optional)", maxlength: "24" });
  const go = el("button", { id: "class-go", class: "primary" }, "Join the class");
  go.onclick = () => { store.setItem("bpl-join", code.value.trim()); join(name.value); };
  const label = el("label", {}, "Join code ");
  label.appendChild(code);
  panel.replaceChildren(label, name, go);
}

function join(name) {
  const me = JSON.parse(store.getItem("bpl-student") || "{}");
  const message = { type: "class.join", code: store.getItem("bpl-join"), id: me.id, key: me.key };
  if (name !== undefined) message.name = name;
  ctx.send(message);
}

function joined(m) {
  store.setItem("bpl-student", JSON.stringify({ id: m.id, key: m.key }));
  if (store.getItem("bpl-race")) ctx.send({ type: "class.racing" });
  const toggle = el("button", { id: "class-follow" });
  toggle.onclick = () => ctx.send({ type: "class.follow", on: !document.body.classList.contains("following") });
  panel.replaceChildren(
    el("span", { class: "class-me" }, m.name || `student ${m.id.slice(1)}`), toggle,
    el("div", { id: "class-race-box", class: "class-race" }),
    el("div", { id: "class-question", class: "class-question" }),
  );
  showQuestion();
}

function following(m) {
  document.body.classList.toggle("following", m.on);
  const toggle = $("class-follow");
  if (toggle) toggle.textContent = m.on ? "Explore on my own" : "Back to the class";
  if (!m.on && store.getItem("bpl-followed")) {  // start my own session from what I saw
    store.removeItem("bpl-followed");
    location.reload();
  } else if (m.on) store.setItem("bpl-followed", "1");
}

function state(m) {
  if (!document.body.classList.contains("following")) return;
  ctx.show(m.tab);
  const player = PLAYERS[m.tab] && playerIn($(PLAYERS[m.tab]));
  if (player && m.step !== null) player.go(m.step);
}

// ------------------------------------------------------------ questions
function asked(m) {
  question = m.question;
  answered = null;
  showQuestion();
  if (!teaching) return;
  panel.classList.toggle("asking", Boolean(question));
  showMore(false);
  if (question) drawTally({ count: 0, of: 0, bins: [], counts: {} }, false);
  else $("class-tally").replaceChildren();  // closed: its answers go with it
}

function showQuestion() {
  const box = $("class-question");
  if (!box) return;
  if (!question) { box.replaceChildren(); box.hidden = true; return; }
  box.hidden = false;
  const parts = [el("div", { class: "class-prompt" }, question.prompt)];
  if (!teaching && question.truth === undefined) {
    if (question.options.length) {
      const row = el("div", { class: "class-options" });
      for (const o of question.options) {
        const b = el("button", { class: answered === o ? "active" : "" }, o);
        b.onclick = () => ctx.send({ type: "class.answer", question: question.id, value: o });
        row.appendChild(b);
      }
      parts.push(row);
    } else {
      const field = el("input", { id: "class-answer", type: "text", inputmode: "decimal", autocomplete: "off" });
      const send = el("button", { id: "class-send", class: "primary" }, "Send");
      send.onclick = () => ctx.send({ type: "class.answer", question: question.id, value: field.value });
      field.onkeydown = e => { if (e.key === "Enter") send.onclick(); };
      parts.push(el("div", { class: "row" }), field, send);
    }
    if (answered !== null) parts.push(el("div", { class: "class-sent" }, `sent: ${typeof answered === "number" ? fmt(answered) : answered} (you may change it)`));
  }
  box.replaceChildren(...parts);
}

function revealed(m) {
  if (question) question.truth = m.truth;
  showQuestion();
  const truth = Array.isArray(m.truth) ? m.truth.join(" or ") : typeof m.truth === "number" ? fmt(m.truth) : m.truth;
  const box = $("class-question");
  box.appendChild(el("div", { id: "class-truth", class: "class-truth" }, `The engine: ${truth}`));
  if (teaching) {
    const close = `${m.right} of ${m.count} close${m.close.length ? ": " + m.close.join(", ") : ""}`;
    box.appendChild(el("div", { class: "class-close", title: close }, close));
    drawTally(m, true);
  } else if (answered !== null) {
    const right = m.close.length >= 0 && isClose(answered, m.truth);
    box.appendChild(el("div", { class: right ? "class-right" : "class-wrong" }, right ? "You were close!" : `You said ${typeof answered === "number" ? fmt(answered) : answered}.`));
  }
}

function isClose(a, t) {
  if (Array.isArray(t)) return t.includes(a);
  if (typeof t !== "number") return a === t;
  return Math.abs(a - t) <= Math.max(0.1 * Math.abs(t), 1e-3);
}

// The count and the spread: a histogram of numbers (the truth marked once revealed) or
// a bar per option.
function drawTally(m, withTruth) {
  const box = $("class-tally");
  if (!box || !question) return;
  const head = el("div", { class: "class-count" }, `${m.count} of ${m.of} answered`);
  const bars = m.bins ? m.bins.map(([a, b, c]) => [`${fmt(a)}…${fmt(b)}`, c, a, b]) : Object.entries(m.counts || {}).map(([k, c]) => [k, c]);
  // drawn at the box's own width, so its type is the size class.css says (in the docked
  // column a 640-wide chart shrank its labels to 5 px); a bin's label where there is room
  const W = Math.max(240, Math.round(box.clientWidth) || 640), H = Math.min(220, Math.round(0.75 * W));
  const pad = 30, n = Math.max(bars.length, 1), top = Math.max(1, ...bars.map(b => b[1]));
  const every = Math.max(2, Math.ceil(64 / ((W - 2 * pad) / n)));
  // a line above the bars for the engine's number at the reveal (not on the top count)
  const chart = svg("svg", { viewBox: `0 -26 ${W} ${H + 66}`, class: "class-histogram", role: "img" });
  bars.forEach(([label, c], i) => {
    const w = (W - 2 * pad) / n, h = (H - pad) * c / top, x = pad + i * w;
    chart.appendChild(svg("rect", { x: x + 2, y: H - h, width: w - 4, height: h, class: "bar" }));
    if (c) chart.appendChild(svg("text", { x: x + w / 2, y: H - h - 6, class: "num" }, String(c)));
    if (!m.bins || i % every === 0) chart.appendChild(svg("text", { x: x + w / 2, y: H + 22, class: "lab" }, m.bins ? tick(bars[i][2]) : label));
  });
  if (withTruth && m.bins && m.bins.length && typeof m.truth === "number") {
    const lo = m.bins[0][0], hi = m.bins[m.bins.length - 1][1];
    const x = pad + (W - 2 * pad) * (m.truth - lo) / (hi - lo || 1);
    chart.appendChild(svg("line", { x1: x, x2: x, y1: 0, y2: H, class: "truth" }));
    chart.querySelectorAll(".num").forEach(n => chart.appendChild(n));  // over the bars, under the counts
    const at = Math.min(W - 90, Math.max(90, x));  // the label stays inside the chart
    chart.appendChild(svg("text", { x: at, y: -8, class: "truthlab" }, `engine: ${fmt(m.truth)}`));
  }
  box.replaceChildren(head, ...(m.count ? [chart] : []));  // no empty chart over the drawing
}

// An axis label: two significant digits (-0.092, not -0.09167); the counts and the
// engine's number keep fmt's four.
function tick(x) {
  const a = Math.abs(x);
  return a === 0 || a >= 1e5 || a < 1e-4 ? fmt(x) : String(Number(x.toPrecision(2)));
}

function download(m) {
  const link = el("a", { href: URL.createObjectURL(new Blob([m.text], { type: "text/csv" })), download: m.filename });
  document.body.appendChild(link);
  link.click();
  link.remove();
}

// ------------------------------------------------------------ the race
// Teacher: start or end it, and the wall. Student: join it, which starts their own
// Playground from the teacher's settings (the page reloads from a link holding them).
function race(m) {
  racing = m.on;
  if (teaching) {
    $("class-race").textContent = m.on ? "End the race" : "Start a race";
    if (!m.on) $("class-wall").replaceChildren();
    return;
  }
  const box = $("class-race-box");
  if (!box) return;
  if (!m.on) { store.removeItem("bpl-race"); box.replaceChildren(); return; }
  if (m.racing) { box.replaceChildren(el("span", { class: "class-racing" }, "In the race: press Play, change what you like")); return; }
  const join = el("button", { id: "class-join-race", class: "primary" }, "Join the race");
  join.onclick = () => {
    store.setItem("bpl-race", "1");
    const link = new URLSearchParams({ tab: "playground", ...toUrl(hello.tabs.playground, m.settings) });
    history.replaceState(null, "", `#${link.toString()}`);
    store.setItem("bpl-followed", "1");  // leaving the class's view reloads into my own
    ctx.send({ type: "class.follow", on: false });
  };
  box.replaceChildren(join);
}

function wall(m) {
  const box = $("class-wall");
  if (!box) return;
  const tiles = m.racers.map(r => {
    const tile = el("figure", { class: "class-tile" });
    tile.append(thumbnail(r.boundary, r.size), el("figcaption", {}, `${r.name}: ${r.test_loss === null ? "—" : fmt(r.test_loss)}`));
    return tile;
  });
  const best = m.best ? Object.entries(m.best.settings).map(([k, v]) => `${k} ${Array.isArray(v) ? v.join(",") || "none" : v}`).join(" · ") : "";
  box.replaceChildren(el("div", { class: "class-best" }, best ? `best (${m.best.name}): ${best}` : "the race is on"), el("div", { class: "class-tiles" }));
  box.lastChild.append(...tiles);
}

// A decision boundary (the frame's bytes, 0 = -1 … 255 = +1) as a small canvas.
function thumbnail(boundary, size) {
  const canvas = el("canvas", { width: String(size || 1), height: String(size || 1) });
  if (!boundary || !size) return canvas;
  const bytes = Uint8Array.from(atob(boundary), c => c.charCodeAt(0));
  const g = canvas.getContext("2d"), image = g.createImageData(size, size);
  bytes.forEach((b, i) => {
    const [r, gr, bl] = rgb(b / 127.5 - 1);
    image.data.set([r, gr, bl, 255], 4 * i);
  });
  g.putImageData(image, 0, 0);
  return canvas;
}
