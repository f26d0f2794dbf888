// The page: one WebSocket to the server, four tabs, the open tab and its settings kept in
// the URL (#tab=playground&dataset=circle&...), so a link reproduces them; and presenter
// mode (the page's schema's `present`, in the URL, key F): the projector theme's sizes,
// each tab fitted to the window, the drawings in the projector theme.
import { $ } from "./common.js";
import { KEYS } from "./player.js";
import { control, fromUrl } from "./settings.js";
import * as neuron from "./neuron.js";
import * as expression from "./expression.js";
import * as network from "./network.js";
import * as playground from "./playground.js";
import * as room from "./class.js";

const TABS = { neuron, expression, network, playground };
let socket = null;
const busy = {}, pending = {};
let current = null;
const link = hashParams();  // the settings the page was opened with, before it rewrites them
let page = null, presentControl = null;  // the page's settings (presenter mode), from its schema
const THEMED = new Set(["neuron", "neuron.step", "expression"]);  // their drawings come in a theme
KEYS.push([["F"], "presenter mode (big print, each tab fits the window)"]);

// Send a message; for a group (one tab's requests), keep at most one in flight, and of
// the waiting ones only the newest of each type (dragging a slider never queues up work
// on the server, while a button press is never dropped).
function request(group, message) {
  showError("");
  if (busy[group]) {
    const queue = (pending[group] = pending[group] || []);
    const last = queue[queue.length - 1];
    if (last && last.type === message.type) queue[queue.length - 1] = message;
    else queue.push(message);
    return;
  }
  busy[group] = true;
  send(message);
}

// Anything the user does clears the last error message; replies never do.
function send(message, quiet = false) {
  if (!quiet) showError("");
  if (THEMED.has(message.type)) message = { ...message, theme: page && page.present ? "projector" : "default" };
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
}

function done(group) {
  busy[group] = false;
  const next = pending[group] && pending[group].shift();
  if (next) request(group, next);
}

export function showError(text) {
  const box = $("error");
  box.textContent = text;
  box.hidden = !text;
}

function receive(event) {
  let message;
  try { message = JSON.parse(event.data); } catch { return; }
  const group = (message.type === "error" ? message.about : message.type || "").split(".")[0];
  if (group === "class") return message.type === "error" ? showError(message.message) : room.onMessage(message);
  if (message.type === "hello") {  // the server's menus (activations, data sets, ...)
    startPage(message.page);
    room.start(message);  // a teacher's page says so before its tabs' first views
    for (const tab of Object.values(TABS)) tab.start(message);
  } else if (message.type === "error") {
    showError(message.message);
    const tab = TABS[group];
    if (tab && tab.onError) tab.onError(message);
  } else if (TABS[group]) {
    TABS[group].onMessage(message);
  }
  if (message.type !== "neuron.graph") done(group);  // the graph follows its numbers
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${scheme}://${location.host}/ws`);
  socket.onopen = () => {
    $("status").textContent = "live";
    $("status").className = "status live";
    for (const k of Object.keys(busy)) busy[k] = false;
  };
  socket.onmessage = receive;
  socket.onclose = () => {
    $("status").textContent = "disconnected — retrying…";
    $("status").className = "status down";
    setTimeout(connect, 1000);
  };
}

export function hashParams() { return new URLSearchParams(location.hash.slice(1)); }

// The URL holds the open tab, that tab's settings and presenter mode when it is on
// (replaceState: no history spam).
export function saveUrl() {
  const params = new URLSearchParams({ tab: current });
  const extra = TABS[current].urlParams ? TABS[current].urlParams() : {};
  for (const [k, v] of Object.entries(extra)) params.set(k, v);
  if (page && page.present) params.set("present", "true");
  history.replaceState(null, "", `#${params.toString()}`);
}

// ------------------------------------------------------------ presenter mode
function startPage(schema) {
  if (!page) page = fromUrl(schema, link);
  presentControl = control(schema, "present", page.present, present, "page");
  $("page-settings").replaceChildren(presentControl.node);
  present(page.present === true);
}

// Presenter mode on or off: the theme's sizes (theme.css's .present), the fitted graphs
// (player.js zooms a .bp-fit graph into the step's boxes), the drawings laid out again.
function present(on) {
  if (!page) return;
  page.present = on === true;
  document.documentElement.classList.toggle("present", page.present);
  for (const graph of document.querySelectorAll(".graph")) graph.classList.toggle("bp-fit", page.present);
  presentControl.set(page.present);
  window.dispatchEvent(new Event("bp-theme"));
  saveUrl();
}

// Each graph's natural width (its viewBox is in points): on a phone a graph keeps that
// size and scrolls inside its box (to the step's boxes) rather than shrinking to nothing.
const natural = new MutationObserver(records => {
  for (const svg of records.flatMap(r => [...r.addedNodes]).filter(n => n.nodeName === "svg")) {
    const box = (svg.getAttribute("viewBox") || "").split(/[\s,]+/).map(Number);
    if (box.length === 4) svg.style.setProperty("--natural-width", `${(box[2] * 4) / 3}px`);
  }
});
for (const graph of document.querySelectorAll(".graph")) natural.observe(graph, { childList: true });

window.addEventListener("keydown", e => {
  if ((e.key !== "f" && e.key !== "F") || e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) return;
  const t = e.target;
  const typing = t && (t.isContentEditable || t.tagName === "TEXTAREA" ||
    (t.tagName === "INPUT" && !["checkbox", "radio", "range", "button", "file"].includes(t.type)));
  if (typing || !page) return;
  e.preventDefault();
  present(!page.present);
});

function show(name) {
  if (!TABS[name]) name = "neuron";
  current = name;
  for (const key of Object.keys(TABS)) {
    $(`tab-${key}`).hidden = key !== name;
    document.querySelector(`nav button[data-tab="${key}"]`).classList.toggle("active", key === name);
  }
  showError("");
  saveUrl();
  document.dispatchEvent(new CustomEvent("classroom:tab", { detail: name }));
}

const context = { request, send, saveUrl, showError, hashParams };
for (const tab of Object.values(TABS)) tab.init(context);
room.init({ send, show, showError });
for (const button of document.querySelectorAll("nav button")) {
  button.onclick = () => show(button.dataset.tab);
}
show(hashParams().get("tab") || "neuron");
// A link pasted into this tab (the page itself only uses replaceState): start from it.
window.addEventListener("hashchange", () => location.reload());
connect();
