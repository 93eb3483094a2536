// The outline review of the generate page: after "Plan first", the proposed title and
// sections as an editable list (rename, reorder by drag or Alt+↑/↓ or the buttons, add,
// delete, edit points), stored as you go (PUT /outline), then "Write the post".
import { api, path } from "./api.js";
import { byId as $, el, errorMessage, showMessage } from "./ui.js";

const SAVE_DELAY_MS = 700;
const state = { blogId: null, timer: null, saving: null, dragged: null, onWrite: null };

const items = () => [...$("outline-list").children];
const headingOf = (item) => item.querySelector(".outline-heading").value.trim();

function setStatus(text, kind = "") {
  const node = $("outline-save-state");
  node.textContent = text;
  node.className = `save-state${kind ? ` save-${kind}` : ""}`;
}

// Labels say where each section is: screen readers hear "Section 2 of 4".
function relabel() {
  const all = items();
  all.forEach((item, i) => {
    const n = i + 1;
    const name = headingOf(item) || `section ${n}`;
    item.querySelector(".outline-n").textContent = `${n}.`;
    item.querySelector(".outline-heading").setAttribute("aria-label", `Section ${n} of ${all.length}: heading`);
    item.querySelector(".outline-points").setAttribute("aria-label", `Points of section ${n} (one per line)`);
    item.querySelector("[data-act=up]").setAttribute("aria-label", `Move “${name}” up`);
    item.querySelector("[data-act=down]").setAttribute("aria-label", `Move “${name}” down`);
    item.querySelector("[data-act=delete]").setAttribute("aria-label", `Delete “${name}”`);
    item.querySelector("[data-act=up]").disabled = i === 0;
    item.querySelector("[data-act=down]").disabled = i === all.length - 1;
    item.querySelector("[data-act=delete]").disabled = all.length === 1;
  });
  $("outline-count").textContent = `${all.length} section${all.length === 1 ? "" : "s"}`;
}

function announce(message) { $("outline-live").textContent = message; }

function move(item, by) {
  const all = items();
  const to = all.indexOf(item) + by;
  if (to < 0 || to >= all.length) return;
  const focused = document.activeElement;
  if (by < 0) all[to].before(item); else all[to].after(item);
  relabel();
  if (focused && item.contains(focused) && !focused.disabled) focused.focus();
  else item.querySelector(".outline-heading").focus();
  announce(`“${headingOf(item)}” moved to position ${to + 1} of ${all.length}.`);
  changed();
}

function sectionItem(section) {
  const heading = el("input", { type: "text", class: "outline-heading", maxlength: "200", value: section.heading, required: true });
  const points = el("textarea", { class: "outline-points", rows: "2", placeholder: "Points to cover, one per line (optional)" });
  points.value = (section.points || []).join("\n");
  // as tall as its points (2 to 8 lines), so none hides behind a scroll bar
  const fit = () => { points.rows = Math.min(8, Math.max(2, points.value.split("\n").length)); };
  fit();
  const handle = el("span", { class: "outline-handle", draggable: "true", title: "Drag to reorder", "aria-hidden": "true" }, "⋮⋮");
  const button = (act, text) => el("button", { type: "button", class: "btn btn-ghost btn-sm btn-icon", "data-act": act }, text);
  const item = el("li", { class: "outline-item" },
    handle,
    el("span", { class: "outline-n", "aria-hidden": "true" }),
    el("div", { class: "outline-fields" }, heading, points),
    el("div", { class: "outline-tools" }, button("up", "↑"), button("down", "↓"), button("delete", "✕")));
  heading.addEventListener("input", () => { relabel(); changed(); });
  points.addEventListener("input", () => { fit(); changed(); });
  item.addEventListener("keydown", (e) => {
    if (e.altKey && (e.key === "ArrowUp" || e.key === "ArrowDown")) {
      e.preventDefault();
      move(item, e.key === "ArrowUp" ? -1 : 1);
    }
  });
  item.addEventListener("click", (e) => {
    const act = e.target.closest("[data-act]")?.dataset.act;
    if (act === "up") move(item, -1);
    else if (act === "down") move(item, 1);
    else if (act === "delete") remove(item);
  });
  // drag and drop, by the handle
  handle.addEventListener("dragstart", (e) => {
    state.dragged = item;
    item.classList.add("dragging");
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", headingOf(item));
    e.dataTransfer.setDragImage(item, 16, 16);
  });
  handle.addEventListener("dragend", () => {
    item.classList.remove("dragging");
    if (state.dragged) { state.dragged = null; relabel(); changed(); }
  });
  item.addEventListener("dragover", (e) => {
    const dragged = state.dragged;
    if (!dragged || dragged === item) return;
    e.preventDefault();
    const box = item.getBoundingClientRect();
    if (e.clientY < box.top + box.height / 2) item.before(dragged); else item.after(dragged);
  });
  item.addEventListener("drop", (e) => e.preventDefault());
  return item;
}

function remove(item) {
  if (items().length === 1) return;
  const next = item.nextElementSibling || item.previousElementSibling;
  const name = headingOf(item);
  item.remove();
  relabel();
  next.querySelector(".outline-heading").focus();
  announce(`Deleted “${name}”.`);
  changed();
}

function addSection() {
  const item = sectionItem({ heading: "", points: [] });
  $("outline-list").append(item);
  relabel();
  item.querySelector(".outline-heading").focus();
  announce("Added a section at the end.");
}

// The outline as the API takes it; null (with the problem shown) while a heading is empty.
function collect() {
  const sections = items().map((item) => ({
    heading: headingOf(item),
    points: item.querySelector(".outline-points").value.split("\n").map((p) => p.trim()).filter(Boolean),
  }));
  const blank = items().find((item) => !headingOf(item));
  for (const item of items()) item.querySelector(".outline-heading").toggleAttribute("aria-invalid", !headingOf(item));
  if (blank) return { problem: "Every section needs a heading (or delete it).", focus: blank.querySelector(".outline-heading") };
  const title = $("outline-title").value.trim();
  return { body: title ? { title, sections } : { sections } };
}

function changed() {
  window.clearTimeout(state.timer);
  setStatus("Unsaved changes", "dirty");
  state.timer = window.setTimeout(() => store(), SAVE_DELAY_MS);
}

// Stores the outline; resolves true once the server has it.
async function store() {
  window.clearTimeout(state.timer);
  if (state.saving) await state.saving;
  const { body, problem } = collect();
  if (!body) { setStatus(problem, "error"); return false; }
  state.saving = (async () => {
    setStatus("Saving…", "busy");
    try {
      await api.put(path`/api/v1/blogs/${state.blogId}/outline`, body);
      setStatus("Outline saved", "ok");
      return true;
    } catch (error) {
      setStatus("Not saved", "error");
      showMessage($("outline-error"), `Couldn't save the outline: ${errorMessage(error)}`);
      return false;
    }
  })();
  try { return await state.saving; } finally { state.saving = null; }
}

async function write() {
  showMessage($("outline-error"), "");
  const { problem, focus } = collect();
  if (problem) { showMessage($("outline-error"), problem); focus.focus(); return; }
  $("outline-write").disabled = true;
  try {
    if (!(await store())) return;
    await api.post(path`/api/v1/blogs/${state.blogId}/write`);
    $("outline-review").hidden = true;
    state.onWrite(state.blogId);
  } catch (error) {
    showMessage($("outline-error"), `Couldn't start writing: ${errorMessage(error)}`);
  } finally {
    $("outline-write").disabled = false;
  }
}

// Shows the review of blog `blog` (status outline_ready); `onWrite(blogId)` follows the writing.
export function showOutline(blog, { onWrite }) {
  state.blogId = blog.id;
  state.onWrite = onWrite;
  const outline = blog.outline || { title: blog.title, sections: [] };
  $("outline-title").value = outline.title || blog.title;
  $("outline-list").replaceChildren(...outline.sections.map(sectionItem));
  if (!outline.sections.length) $("outline-list").append(sectionItem({ heading: "", points: [] }));
  relabel();
  for (const warning of blog.warnings || []) $("outline-warnings").append(el("p", { class: "alert alert-warning" }, warning));
  setStatus("Outline saved", "ok");
  showMessage($("outline-error"), "");
  $("outline-review").hidden = false;
  $("outline-heading").focus();
}

$("outline-title").addEventListener("input", changed);
$("outline-add").addEventListener("click", addSection);
$("outline-write").addEventListener("click", write);
$("outline-review").addEventListener("submit", (e) => e.preventDefault());
