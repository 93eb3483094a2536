// Documents: drag-and-drop upload with per-file progress, live status, search, text view, reprocess, delete.
import { api, path } from "./api.js";
import { badge, byId as $, confirmDelete, el, errorMessage, fileIcon, formatBytes, showDialog, showMessage, timeEl, toast } from "./ui.js";

const PAGE_SIZE = 50;
const POLL_MS = 1500;
const PARALLEL_UPLOADS = 3;
const BUSY = new Set(["queued", "processing"]);

const state = { docs: new Map(), cursor: null, q: "", status: "", pollTimer: null, loading: 0 };

// ---- the library -------------------------------------------------------
function query(cursor) {
  const params = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (state.q) params.set("q", state.q);
  if (state.status) params.set("status", state.status);
  if (cursor) params.set("cursor", cursor);
  return `/api/v1/documents?${params}`;
}

async function load({ append = false } = {}) {
  const ticket = ++state.loading;
  const list = $("doc-list");
  list.setAttribute("aria-busy", "true");
  try {
    const data = await api.get(query(append ? state.cursor : null));
    if (ticket !== state.loading) return; // a newer search superseded this one
    if (!append) { state.docs.clear(); list.replaceChildren(); }
    for (const doc of data.items) upsert(doc, { position: "end" });
    state.cursor = data.next_cursor;
    showMessage($("doc-error"), "");
  } catch (error) {
    if (ticket !== state.loading) return;
    showMessage($("doc-error"), `Couldn't load your documents: ${errorMessage(error)}`);
  } finally {
    if (ticket === state.loading) list.removeAttribute("aria-busy");
  }
  refreshChrome();
  schedulePoll();
}

function refreshChrome() {
  const count = state.docs.size;
  const filtered = Boolean(state.q || state.status);
  $("doc-empty").hidden = count > 0 || filtered || $("doc-error").hidden === false;
  $("doc-nomatch").hidden = count > 0 || !filtered;
  $("load-more").hidden = !state.cursor;
  $("doc-count").textContent = count ? `(${count}${state.cursor ? "+" : ""})` : "";
  const busy = [...state.docs.values()].some((d) => BUSY.has(d.status));
  $("live-note").hidden = !busy;
}

const FINAL_FAILURES = new Set(["encrypted", "no_text_layer", "no_text"]);

function metaLine(doc) {
  const parts = [formatBytes(doc.size_bytes)];
  if (doc.page_count) parts.push(`${doc.page_count} page${doc.page_count === 1 ? "" : "s"}`);
  if (doc.word_count) parts.push(`${doc.word_count.toLocaleString()} words`);
  return parts.filter(Boolean).join(" · ");
}

function renderRow(doc) {
  const name = doc.filename || "Untitled";
  const actions = el("div", { class: "doc-actions" });
  if (doc.status === "ready") {
    actions.append(el("button", { type: "button", class: "btn btn-ghost btn-sm", dataset: { action: "view" }, "aria-label": `View text of ${name}` }, "View text"));
  }
  // A file that is encrypted or has no text gives the same failure however often it is read.
  if (doc.status === "ready" || (doc.status === "failed" && !FINAL_FAILURES.has(doc.error_code))) {
    actions.append(el("button", { type: "button", class: "btn btn-ghost btn-sm", dataset: { action: "reprocess" }, "aria-label": `Reprocess ${name}` }, "Reprocess"));
  }
  actions.append(
    el("a", { class: "btn btn-ghost btn-sm", href: `/api/v1/documents/${encodeURIComponent(doc.id)}/download`, download: name, dataset: { action: "download" }, "aria-label": `Download ${name}` }, "Download"),
    el("button", { type: "button", class: "btn btn-ghost btn-sm btn-danger-ghost", dataset: { action: "delete" }, "aria-label": `Delete ${name}` }, "Delete"));

  return el("li", { class: `doc-row doc-${doc.status}`, dataset: { id: doc.id, status: doc.status } },
    fileIcon(name),
    el("div", { class: "doc-main" },
      el("div", { class: "doc-name", title: name }, name),
      el("div", { class: "doc-meta muted small" }, metaLine(doc), doc.created_at ? " · " : "", doc.created_at ? timeEl(doc.created_at) : ""),
      doc.status === "failed"
        ? el("div", { class: "doc-failure", dataset: { role: "error" } }, el("strong", {}, "Failed: "), doc.error || "The file could not be processed.")
        : null),
    el("div", { class: "doc-status" }, badge(doc.status)),
    actions);
}

// Insert or update one row, keeping keyboard focus where it was.
function upsert(doc, { position = "start" } = {}) {
  const before = state.docs.get(doc.id);
  state.docs.set(doc.id, doc);
  const list = $("doc-list");
  const existing = list.querySelector(`li[data-id="${CSS.escape(doc.id)}"]`);
  if (existing && before && JSON.stringify(before) === JSON.stringify(doc)) return;
  const row = renderRow(doc);
  if (existing) {
    const focused = existing.contains(document.activeElement) ? document.activeElement.dataset.action : null;
    existing.replaceWith(row);
    if (focused) {
      const again = row.querySelector(`[data-action="${focused}"]`) || row.querySelector("[data-action]");
      if (again) again.focus();
    }
    if (before && BUSY.has(before.status) && !BUSY.has(doc.status)) announce(doc);
  } else if (position === "start") {
    list.prepend(row);
  } else {
    list.append(row);
  }
}

function announce(doc) {
  const message = doc.status === "ready" ? `${doc.filename} is ready.` : `${doc.filename} failed: ${doc.error || "could not be processed"}.`;
  $("doc-announcer").textContent = message;
}

function removeRow(id) {
  state.docs.delete(id);
  const row = $("doc-list").querySelector(`li[data-id="${CSS.escape(id)}"]`);
  if (row) row.remove();
  refreshChrome();
}

// ---- live status -------------------------------------------------------
function schedulePoll() {
  const busy = [...state.docs.values()].filter((d) => BUSY.has(d.status));
  if (state.pollTimer || !busy.length) return;
  state.pollTimer = window.setTimeout(async () => {
    state.pollTimer = null;
    const still = [...state.docs.values()].filter((d) => BUSY.has(d.status));
    await Promise.all(still.map(async (doc) => {
      try {
        upsert(await api.get(path`/api/v1/documents/${doc.id}`));
      } catch (error) {
        if (error.status === 404) removeRow(doc.id);
      }
    }));
    refreshChrome();
    schedulePoll();
  }, POLL_MS);
}

// ---- uploads -----------------------------------------------------------
const queue = [];
let running = 0;

function addFiles(fileList) {
  const maxBytes = Number($("dropzone").dataset.maxMb || 50) * 1024 * 1024;
  for (const file of fileList) {
    const job = { file, row: uploadRow(file) };
    $("uploads").append(job.row.li);
    if (file.size > maxBytes) {
      failUpload(job, `This file is larger than the ${$("dropzone").dataset.maxMb} MB limit.`);
      continue;
    }
    queue.push(job);
  }
  pump();
}

function uploadRow(file) {
  const progress = el("progress", { max: "100", value: "0", "aria-label": `Upload progress of ${file.name}` });
  const status = el("span", { class: "upload-status small muted" }, "Waiting…");
  const dismiss = el("button", { type: "button", class: "btn btn-ghost btn-sm", hidden: true, "aria-label": `Dismiss ${file.name}` }, "Dismiss");
  const li = el("li", { class: "upload-row" },
    fileIcon(file.name),
    el("div", { class: "upload-main" },
      el("div", { class: "upload-line" }, el("span", { class: "doc-name", title: file.name }, file.name), el("span", { class: "muted small upload-size" }, formatBytes(file.size))),
      progress, status),
    dismiss);
  dismiss.addEventListener("click", () => li.remove());
  return { li, progress, status, dismiss };
}

function failUpload(job, message) {
  job.row.li.classList.add("upload-failed");
  job.row.progress.remove();
  job.row.status.className = "upload-status small text-danger";
  job.row.status.setAttribute("role", "alert");
  job.row.status.textContent = message.includes(job.file.name) ? message : `${job.file.name}: ${message}`;
  job.row.dismiss.hidden = false;
}

function pump() {
  while (running < PARALLEL_UPLOADS && queue.length) {
    const job = queue.shift();
    running += 1;
    send(job).finally(() => { running -= 1; pump(); });
  }
}

async function send(job) {
  const form = new FormData();
  form.append("files", job.file, job.file.name);
  job.row.status.textContent = "Uploading…";
  try {
    const data = await api.upload("/api/v1/documents/upload", form, (fraction) => {
      job.row.progress.value = Math.round(fraction * 100);
      job.row.status.textContent = fraction < 1 ? `Uploading… ${Math.round(fraction * 100)}%` : "Checking the file…";
    });
    for (const doc of data.documents) upsert(doc, { position: "start" });
    const duplicate = data.documents.find((doc) => doc.duplicate);
    job.row.progress.value = 100;
    job.row.li.classList.add("upload-done");
    if (duplicate) {
      // Same bytes as a document of the library: nothing was stored again.
      job.row.status.className = "upload-status small muted";
      job.row.status.textContent = `${job.file.name} is already in your library as ${duplicate.filename}`;
      job.row.li.dataset.duplicate = duplicate.id;
      job.row.dismiss.hidden = false;
      window.setTimeout(() => job.row.li.remove(), 6000);
    } else {
      job.row.status.textContent = "Uploaded — processing starts now";
      job.row.status.className = "upload-status small text-success";
      window.setTimeout(() => job.row.li.remove(), 1200);
    }
    refreshChrome();
    schedulePoll();
  } catch (error) {
    failUpload(job, errorMessage(error));
  }
}

// ---- actions -----------------------------------------------------------
async function viewText(doc) {
  const content = el("div", { class: "doc-text", "aria-busy": "true" }, el("p", { class: "muted" }, "Loading the extracted text…"));
  showDialog({ title: doc.filename, content, wide: true });
  try {
    const { sections, markdown } = await api.get(path`/api/v1/documents/${doc.id}/content`);
    const nodes = sections.length
      ? sections.map((s) => el("section", { class: "doc-section" },
        s.heading ? el("h3", {}, s.heading) : null,
        s.page ? el("p", { class: "muted small" }, `Page ${s.page}`) : null,
        el("p", { class: "pre-wrap" }, s.text)))
      : [el("pre", { class: "pre-wrap" }, markdown || "No text was extracted from this file.")];
    content.replaceChildren(...nodes);
  } catch (error) {
    content.replaceChildren(el("p", { class: "text-danger", role: "alert" }, `Couldn't load the text: ${errorMessage(error)}`));
  }
  content.removeAttribute("aria-busy");
}

async function reprocess(doc) {
  try {
    upsert(await api.post(path`/api/v1/documents/${doc.id}/reprocess`));
    toast(`Reprocessing ${doc.filename}`);
    refreshChrome();
    schedulePoll();
  } catch (error) {
    toast(`Couldn't reprocess ${doc.filename}: ${errorMessage(error)}`, "error");
  }
}

async function remove(doc) {
  const deleted = await confirmDelete({
    name: doc.filename,
    body: "The file and its extracted text will be removed. This can't be undone.",
    url: path`/api/v1/documents/${doc.id}`,
  });
  if (deleted) removeRow(doc.id);
}

// ---- wiring ------------------------------------------------------------
const input = $("file-input");
const zone = $("dropzone");
const params = new URLSearchParams(window.location.search);
state.q = params.get("q") || "";
state.status = params.get("status") || "";
$("search").value = state.q;
$("status-filter").value = state.status;

$("choose-files").addEventListener("click", () => input.click());
input.addEventListener("change", () => { addFiles(input.files); input.value = ""; });

let depth = 0;
document.addEventListener("dragenter", (e) => {
  if (!e.dataTransfer || ![...e.dataTransfer.types].includes("Files")) return;
  depth += 1; zone.classList.add("dragover");
});
document.addEventListener("dragleave", () => { depth = Math.max(0, depth - 1); if (!depth) zone.classList.remove("dragover"); });
document.addEventListener("dragover", (e) => { e.preventDefault(); });
document.addEventListener("drop", (e) => {
  e.preventDefault();
  depth = 0; zone.classList.remove("dragover");
  if (e.dataTransfer && e.dataTransfer.files.length) addFiles(e.dataTransfer.files);
});

let typing = null;
const applyFilters = () => {
  state.q = $("search").value.trim();
  state.status = $("status-filter").value;
  const url = new URL(window.location.href);
  for (const [key, value] of [["q", state.q], ["status", state.status]]) {
    if (value) url.searchParams.set(key, value); else url.searchParams.delete(key);
  }
  window.history.replaceState(null, "", url);
  load();
};
$("search").addEventListener("input", () => { window.clearTimeout(typing); typing = window.setTimeout(applyFilters, 300); });
$("status-filter").addEventListener("change", applyFilters);
$("search-form").addEventListener("submit", (e) => { e.preventDefault(); window.clearTimeout(typing); applyFilters(); });
$("load-more").addEventListener("click", () => load({ append: true }));

$("doc-list").addEventListener("click", (e) => {
  const button = e.target.closest("button[data-action]");
  if (!button) return;
  const doc = state.docs.get(button.closest("li[data-id]").dataset.id);
  if (!doc) return;
  if (button.dataset.action === "view") viewText(doc);
  else if (button.dataset.action === "reprocess") reprocess(doc);
  else if (button.dataset.action === "delete") remove(doc);
});

load();
