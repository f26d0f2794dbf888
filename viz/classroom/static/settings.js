// A tab's settings schema (viz/classroom/settings.py, sent in the server's hello as JSON
// Schema) made into the page's controls, defaults and URL. No default, bound or menu is
// written here: each comes from the schema. The server checks every value again and
// answers a bad one with one line naming the setting, so text that does not parse is
// sent as it is, for that line.
import { el } from "./common.js";

export function defaults(schema) {
  const out = {};
  for (const [key, prop] of Object.entries(schema.properties)) out[key] = structuredClone(prop.default);
  return out;
}

// Text typed in (or read from a URL) as the setting's type; the text itself when it
// does not parse ("2, x" for a list of numbers), so the server names what was wrong.
export function parse(prop, text) {
  text = String(text);
  if (prop.type === "array") {
    const parts = text.split(/[\s,]+/).filter(Boolean);
    const items = parts.map(t => parse(prop.items, t));
    return items.every(v => typeof v !== "string" || prop.items.type === "string") ? items : text;
  }
  if (prop.type === "number" || prop.type === "integer") {
    const v = Number(text);
    return text.trim() !== "" && Number.isFinite(v) ? v : text;
  }
  if (prop.type === "boolean") return text === "true" ? true : text === "false" ? false : text;
  return text;
}

export function format(prop, value) {
  return prop.type === "array" ? value.join(", ") : String(value);
}

// The settings a link holds (#tab=...&lr=0.1&layers=4,2): each key of the schema found
// in the URL, parsed; the rest from the defaults.
export function fromUrl(schema, params, base = defaults(schema)) {
  const out = structuredClone(base);
  for (const [key, prop] of Object.entries(schema.properties)) {
    if (params.has(key)) out[key] = parse(prop, prop.type === "array" ? params.get(key).replaceAll(",", " ") : params.get(key));
  }
  return out;
}

export function toUrl(schema, settings) {
  const out = {};
  for (const [key, prop] of Object.entries(schema.properties)) {
    if (settings[key] !== undefined) out[key] = prop.type === "array" ? settings[key].join(",") : String(settings[key]);
  }
  return out;
}

// The control of one setting, labelled with its title: a menu for choices and for
// numbers with usual values (a value from a link that the menu lacks joins it), a slider
// for a "range", a checkbox, buttons for "buttons", else a text field. Returns the
// element and set(value), which shows a value without calling onChange.
export function control(schema, key, value, onChange, prefix = schema.title.toLowerCase()) {
  const prop = schema.properties[key];
  const id = `${prefix}-${key}`;
  const label = el("label", { class: `setting setting-${key}`, title: prop.description || prop.title });
  let set;
  if (prop.control === "buttons") {
    const box = el("div", { class: "choices", id });
    const buttons = prop.enum.map(v => {
      const b = el("button", { "data-name": v }, v);
      b.onclick = () => onChange(v);
      return b;
    });
    box.append(...buttons);
    set = v => buttons.forEach(b => b.classList.toggle("active", b.dataset.name === v));
    set(value);
    return { node: box, set, buttons };
  }
  label.appendChild(el("span", { class: "setting-name" }, prop.title));
  if (prop.enum || prop.menu) {
    const select = el("select", { id });
    const values = prop.enum || prop.menu;
    select.replaceChildren(...values.map(v => el("option", { value: String(v) }, String(v))));
    select.onchange = () => onChange(parse(prop, select.value));
    set = v => {
      if (![...select.options].some(o => o.value === String(v))) select.appendChild(el("option", { value: String(v) }, String(v)));
      select.value = String(v);
    };
    label.appendChild(select);
  } else if (prop.type === "boolean") {
    const box = el("input", { type: "checkbox", id });
    box.onchange = () => onChange(box.checked);
    set = v => { box.checked = Boolean(v); };
    label.prepend(box);
  } else if (prop.control === "range") {
    const range = el("input", { type: "range", id, min: String(prop.minimum), max: String(prop.maximum), step: String(prop.step || 1) });
    const shown = el("span", { class: "setting-value", id: `${id}-val` });
    const unit = prop.unit ? ` ${prop.unit}` : "";
    range.oninput = () => { shown.textContent = `${range.value}${unit}`; };
    range.onchange = () => onChange(parse(prop, range.value));
    set = v => { range.value = String(v); shown.textContent = `${v}${unit}`; };
    label.append(range, shown);
  } else {
    const number = prop.type === "number" || prop.type === "integer";
    const field = el("input", number
      ? { type: "number", id, min: String(prop.minimum ?? ""), max: String(prop.maximum ?? ""), step: prop.type === "integer" ? "1" : "any" }
      : { type: "text", id, spellcheck: "false" });
    // a reply that comes while the field is being typed in leaves it as typed
    let typing = false;
    field.oninput = () => { typing = true; };
    field.onblur = () => { typing = false; };
    field.onchange = () => { typing = false; onChange(parse(prop, field.value)); };
    field.onkeydown = e => { if (e.key === "Enter") field.onchange(); };
    set = v => { if (!(typing && document.activeElement === field)) field.value = format(prop, v); };
    label.appendChild(field);
  }
  set(value);
  return { node: label, set };
}

// Fill every [data-setting] placeholder inside root with its control (ids
// `${prefix}-${key}`); returns them by key.
export function build(root, schema, settings, onChange, prefix) {
  const controls = {};
  for (const slot of root.querySelectorAll("[data-setting]")) {
    const key = slot.dataset.setting;
    controls[key] = control(schema, key, settings[key], v => onChange(key, v), prefix);
    slot.replaceChildren(controls[key].node);
  }
  return controls;
}
