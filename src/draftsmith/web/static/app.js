// Shared page helpers: DOM building, formatting, toasts, dialogs and the theme toggle.
// Page scripts call the API only through window.api (static/api.js).
(function () {
  "use strict";

  const THEME_KEY = "draftsmith-theme";

  // el("a", {href: "/x", class: "btn"}, "text", childNode) — text is always set as text, never as HTML.
  function el(tag, attrs, ...children) {
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

  function formatBytes(bytes) {
    if (bytes === undefined || bytes === null) return "";
    const units = ["B", "KB", "MB", "GB"];
    let value = bytes;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
    return `${value < 10 && unit > 0 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
  }

  const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

  function formatDate(value) {
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
  function timeEl(value) {
    return el("time", { datetime: value, title: formatDate(value), text: timeAgo(value) });
  }

  const STATUS_LABELS = {
    queued: "Queued", processing: "Processing", ready: "Ready", failed: "Failed",
    generating: "Generating", cancelled: "Cancelled",
  };

  function badge(status) {
    const busy = status === "queued" || status === "processing" || status === "generating";
    return el("span", { class: `badge badge-${status}` },
      busy ? el("span", { class: "spinner", "aria-hidden": "true" }) : null,
      STATUS_LABELS[status] || status);
  }

  // Lists come as {items, next_cursor}; accept a bare array too.
  function items(data) {
    if (Array.isArray(data)) return data;
    return (data && Array.isArray(data.items)) ? data.items : [];
  }

  function toast(message, kind = "success") {
    const box = document.getElementById("toasts");
    if (!box) return;
    const note = el("div", { class: `toast toast-${kind}` }, message);
    box.append(note);
    window.setTimeout(() => note.classList.add("toast-leaving"), 3600);
    window.setTimeout(() => note.remove(), 4000);
  }

  // A modal confirmation built on <dialog>; resolves true when confirmed.
  function confirmDialog({ title, body, confirm = "Confirm", cancel = "Cancel", danger = false }) {
    return new Promise((resolve) => {
      const titleId = `dlg-${Math.random().toString(36).slice(2)}`;
      const dialog = el("dialog", { class: "dialog", "aria-labelledby": titleId });
      const confirmBtn = el("button", { type: "submit", value: "confirm", class: `btn ${danger ? "btn-danger" : "btn-primary"}` }, confirm);
      const cancelBtn = el("button", { type: "submit", value: "cancel", class: "btn btn-ghost" }, cancel);
      const form = el("form", { method: "dialog", class: "dialog-body" },
        el("h2", { id: titleId, class: "dialog-title" }, title),
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
  function showDialog({ title, content, actions = [], wide = false }) {
    const titleId = `dlg-${Math.random().toString(36).slice(2)}`;
    const dialog = el("dialog", { class: `dialog${wide ? " dialog-wide" : ""}`, "aria-labelledby": titleId });
    const close = el("button", { type: "button", class: "btn btn-ghost", onclick: () => dialog.close() }, "Close");
    dialog.append(el("div", { class: "dialog-body" },
      el("div", { class: "dialog-head" },
        el("h2", { id: titleId, class: "dialog-title" }, title),
        el("button", { type: "button", class: "btn btn-ghost btn-icon", "aria-label": "Close dialog", onclick: () => dialog.close() }, "✕")),
      el("div", { class: "dialog-content" }, content),
      el("div", { class: "dialog-actions" }, close, ...actions)));
    dialog.addEventListener("close", () => dialog.remove());
    document.body.append(dialog);
    dialog.showModal();
    return dialog;
  }

  function fileKind(name) {
    const ext = (String(name || "").split(".").pop() || "").toLowerCase();
    return { pdf: "PDF", docx: "DOCX", doc: "DOC", md: "MD", markdown: "MD", html: "HTML", htm: "HTML", txt: "TXT" }[ext] || "FILE";
  }

  function errorMessage(error) {
    if (error && typeof error.message === "string" && error.message) return error.message;
    return "Something went wrong. Please try again.";
  }

  // ---- theme -------------------------------------------------------------
  function systemTheme() {
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }

  function currentTheme() {
    return document.documentElement.dataset.theme || systemTheme();
  }

  function savedTheme() {
    try { return window.localStorage.getItem(THEME_KEY) || "system"; } catch (_) { return "system"; }
  }

  function setTheme(choice) {
    try {
      if (choice === "light" || choice === "dark") window.localStorage.setItem(THEME_KEY, choice);
      else window.localStorage.removeItem(THEME_KEY);
    } catch (_) { /* storage unavailable */ }
    if (choice === "light" || choice === "dark") document.documentElement.dataset.theme = choice;
    else delete document.documentElement.dataset.theme;
    syncThemeControls();
  }

  function syncThemeControls() {
    const theme = currentTheme();
    for (const button of document.querySelectorAll("[data-theme-toggle]")) {
      const next = theme === "dark" ? "light" : "dark";
      button.setAttribute("aria-label", `Switch to ${next} theme`);
      button.title = `Switch to ${next} theme`;
    }
    for (const radio of document.querySelectorAll('input[name="theme"]')) radio.checked = radio.value === savedTheme();
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const button of document.querySelectorAll("[data-theme-toggle]")) {
      button.addEventListener("click", () => setTheme(currentTheme() === "dark" ? "light" : "dark"));
    }
    for (const radio of document.querySelectorAll('input[name="theme"]')) {
      radio.addEventListener("change", () => radio.checked && setTheme(radio.value));
    }
    if (window.matchMedia) {
      window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", syncThemeControls);
    }
    syncThemeControls();
  });

  window.ui = {
    el, formatBytes, formatDate, timeAgo, timeEl, badge, items, toast, confirmDialog, showDialog,
    errorMessage, fileKind, setTheme, currentTheme,
  };
})();
