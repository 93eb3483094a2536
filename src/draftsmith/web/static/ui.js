// Shared page helpers: DOM building, formatting, messages, toasts and dialogs.
// Page scripts call the API only through static/api.js.
import { api } from "./api.js";

export const byId = (id) => document.getElementById(id);

// el("a", {href: "/x", class: "btn"}, "text", childNode) — text is always set as text, never as HTML.
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function formatBytes(bytes) {
  if (bytes === undefined || bytes === null) return "";
  const units = ["B", "KB", "MB", "GB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  return `${value < 10 && unit > 0 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

export function formatDate(value) {
  if (!value) return "";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : dateFormat.format(date);
}

function timeAgo(value) {
  if (!value) return "";
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  const seconds = Math.round((date.getTime() - Date.now()) / 1000);
  const steps = [[60, "second"], [60, "minute"], [24, "hour"], [7, "day"], [4.35, "week"], [12, "month"], [Infinity, "year"]];
  let amount = seconds;
  for (const [size, unit] of steps) {
    if (Math.abs(amount) < size) {
      if (unit === "second" && Math.abs(amount) < 45) return "just now";
      return relative.format(Math.round(amount), unit);
    }
    amount /= size;
  }
  return formatDate(value);
}

// A <time> element showing "5 minutes ago" with the full date as its title.
export function timeEl(value) {
  return el("time", { datetime: value, title: formatDate(value), text: timeAgo(value) });
}

const STATUS_LABELS = {
  queued: "Queued", processing: "Processing", ready: "Ready", failed: "Failed",
  generating: "Generating", cancelled: "Cancelled", outline_ready: "Outline ready",
};

export function badge(status) {
  const busy = status === "queued" || status === "processing" || status === "generating";
  return el("span", { class: `badge badge-${status}` },
    busy ? el("span", { class: "spinner", "aria-hidden": "true" }) : null,
    STATUS_LABELS[status] || status);
}

export function toast(message, kind = "success") {
  const box = document.getElementById("toasts");
  if (!box) return;
  const note = el("div", { class: `toast toast-${kind}` }, message);
  box.append(note);
  window.setTimeout(() => note.classList.add("toast-leaving"), 3600);
  window.setTimeout(() => note.remove(), 4000);
}

// A modal confirmation built on <dialog>; resolves true when confirmed.
function dialogTitle(title) {
  return el("h2", { id: `dlg-${Math.random().toString(36).slice(2)}`, class: "dialog-title" }, title);
}

export function confirmDialog({ title, body, confirm = "Confirm", danger = false }) {
  return new Promise((resolve) => {
    const heading = dialogTitle(title);
    const dialog = el("dialog", { class: "dialog", "aria-labelledby": heading.id });
    const confirmBtn = el("button", { type: "submit", value: "confirm", class: `btn ${danger ? "btn-danger" : "btn-primary"}` }, confirm);
    const cancelBtn = el("button", { type: "submit", value: "cancel", class: "btn btn-ghost" }, "Cancel");
    const form = el("form", { method: "dialog", class: "dialog-body" },
      heading,
      body ? el("p", { class: "dialog-text" }, body) : null,
      el("div", { class: "dialog-actions" }, cancelBtn, confirmBtn));
    dialog.append(form);
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "confirm");
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
    cancelBtn.focus();
  });
}

// A modal that shows arbitrary content with a Close button; returns the <dialog>.
export function showDialog({ title, content, actions = [], wide = false }) {
  const heading = dialogTitle(title);
  const dialog = el("dialog", { class: `dialog${wide ? " dialog-wide" : ""}`, "aria-labelledby": heading.id });
  const close = el("button", { type: "button", class: "btn btn-ghost", onclick: () => dialog.close() }, "Close");
  dialog.append(el("div", { class: "dialog-body" },
    el("div", { class: "dialog-head" },
      heading,
      el("button", { type: "button", class: "btn btn-ghost btn-icon", "aria-label": "Close dialog", onclick: () => dialog.close() }, "✕")),
    el("div", { class: "dialog-content" }, content),
    el("div", { class: "dialog-actions" }, close, ...actions)));
  dialog.addEventListener("close", () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  return dialog;
}

const FILE_KINDS = { pdf: "PDF", docx: "DOCX", doc: "DOC", md: "MD", markdown: "MD", html: "HTML", htm: "HTML", txt: "TXT" };

// The small "PDF"/"DOCX"/… tile beside a file name; tinted by kind unless told otherwise.
export function fileIcon(name, { tinted = true } = {}) {
  const kind = FILE_KINDS[(name.split(".").pop() || "").toLowerCase()] || "FILE";
  return el("span", { class: tinted ? `file-icon file-${kind.toLowerCase()}` : "file-icon", "aria-hidden": "true" }, kind);
}

// The label of a document in a picker: its icon and name; when the user has several uploads
// of that name (``sameName``), when each came, so they can be told apart (and heard apart).
const uploadFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

export function documentLabel(id, doc, sameName) {
  const uploaded = sameName && doc.created_at ? uploadFormat.format(new Date(doc.created_at)) : "";
  return el("label", { for: id, class: "check-label" },
    fileIcon(doc.filename),
    el("span", { class: "check-text" },
      el("span", { class: "check-name", title: doc.filename }, doc.filename),
      uploaded ? el("span", { class: "visually-hidden" }, ", ") : null,
      uploaded ? el("span", { class: "check-date small" }, `uploaded ${uploaded}`) : null));
}

// How many documents carry each file name.
export function nameCounts(docs) {
  const counts = new Map();
  for (const doc of docs) counts.set(doc.filename, (counts.get(doc.filename) || 0) + 1);
  return counts;
}

export function errorMessage(error) {
  if (error && typeof error.message === "string" && error.message) return error.message;
  return "Something went wrong. Please try again.";
}


// Shows `message` in an alert box (hidden while there is none).
export function showMessage(node, message) {
  node.textContent = message || "";
  node.hidden = !message;
}

// Asks first, then deletes through the API; resolves true once the thing is gone.
export async function confirmDelete({ name, body, url }) {
  const ok = await confirmDialog({ title: `Delete “${name}”?`, body, confirm: "Delete", danger: true });
  if (!ok) return false;
  try {
    await api.del(url);
    toast(`Deleted ${name}`);
    return true;
  } catch (error) {
    toast(`Couldn't delete ${name}: ${errorMessage(error)}`, "error");
    return false;
  }
}
