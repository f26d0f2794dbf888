// Shared by every tab: the colour language, number formats, safe SVG and DOM helpers.
// Nothing from the server or the user is ever parsed as HTML: text goes in with
// textContent, and graph SVG is parsed as XML and stripped of anything active.

export const NEG = [245, 147, 34];   // the Playground's orange: negative, class -1
export const POS = [8, 119, 189];    // the Playground's blue: positive, class +1
export const MID = [232, 234, 235];  // zero

const SVGNS = "http://www.w3.org/2000/svg";

// Colour of a number in [-1, 1] (clipped): orange below zero, blue above.
export function colour(v, alpha = 1) {
  const t = Math.max(-1, Math.min(1, Number.isFinite(v) ? v : 0));
  const end = t < 0 ? NEG : POS, s = Math.abs(t);
  const c = MID.map((m, i) => Math.round(m + (end[i] - m) * s));
  return alpha === 1 ? `rgb(${c.join(",")})` : `rgba(${c.join(",")},${alpha})`;
}

export function rgb(v) {  // the same colour as [r, g, b], for canvas pixels
  const t = Math.max(-1, Math.min(1, Number.isFinite(v) ? v : 0));
  const end = t < 0 ? NEG : POS, s = Math.abs(t);
  return MID.map((m, i) => Math.round(m + (end[i] - m) * s));
}

// 4 significant digits, like the drawings (fmt in viz/graph.py); null means "not a number".
export function fmt(x) {
  if (x === null || x === undefined || Number.isNaN(x)) return "nan";
  if (x === 0) return "0";
  const a = Math.abs(x);
  if (a >= 1e5 || a < 1e-4) return x.toExponential(3).replace(/\.?0+e/, "e");
  return String(Number(x.toPrecision(4)));
}

export function $(id) { return document.getElementById(id); }

export function el(tag, attrs = {}, text = null) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== null) node.textContent = text;
  return node;
}

export function svg(tag, attrs = {}, text = null) {
  const node = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== null) node.textContent = text;
  return node;
}

// Graphviz's SVG from the server, parsed as XML (never as HTML), with scripts, foreign
// content, event handlers and links removed before it reaches the page.
export function importSvg(container, text) {
  const doc = new DOMParser().parseFromString(text, "image/svg+xml");
  const root = doc.documentElement;
  container.replaceChildren();
  if (root.nodeName !== "svg" || doc.querySelector("parsererror")) {
    container.textContent = "(the drawing could not be read)";
    return null;
  }
  root.querySelectorAll("script, foreignObject, a, animate, set").forEach(n => n.remove());
  for (const node of [root, ...root.querySelectorAll("*")]) {
    for (const attr of [...node.attributes]) {
      const name = attr.name.toLowerCase();
      if (name.startsWith("on") || name.includes("href")) node.removeAttribute(attr.name);
    }
  }
  root.removeAttribute("width");
  root.removeAttribute("height");
  const out = document.importNode(root, true);
  container.appendChild(out);
  return out;
}

// A table of rows from arrays of cells (text only).
export function table(node, head, rows) {
  node.replaceChildren();
  const tr = el("tr");
  for (const h of head) tr.appendChild(el("th", {}, h));
  node.appendChild(tr);
  for (const row of rows) {
    const r = el("tr");
    for (const cell of row) {
      if (cell instanceof Node) { const td = el("td"); td.appendChild(cell); r.appendChild(td); }
      else r.appendChild(el("td", {}, String(cell)));
    }
    node.appendChild(r);
  }
}

// A span coloured by the sign of a number.
export function signed(x, text = fmt(x)) {
  return el("span", { class: x > 0 ? "pos" : x < 0 ? "neg" : "" }, text);
}
