// Editor: Markdown with the server's sanitised preview, citations, autosave with a
// revision-conflict flow, revision history with restore, export and regenerate.
import { api, path } from "./api.js";
import { highlightFlagged, renderGrounding } from "./grounding.js";
import { trackGeneration } from "./progress.js";
import { addRewriteButtons, askInstructions, followRewrite, progressLine, startRewrite } from "./rewrite.js";
import { sourceCard } from "./sourcecard.js";
import { openBriefDialog } from "./regenerate.js";
import { draftWordCount } from "./wordcount.js";
import { badge, byId as $, el, errorMessage, formatDate, showDialog, showMessage, timeEl, toast } from "./ui.js";

const AUTOSAVE_MS = 2000;
const BUSY = new Set(["queued", "generating"]);
const blogId = $("editor").dataset.blogId;
const blogUrl = path`/api/v1/blogs/${blogId}`;

const state = {
  blog: null,
  revision: null,
  saved: { title: "", markdown: "" }, // what the server has at state.revision
  saving: null, // the in-flight save promise
  timer: null,
  conflict: false,
  historyLoaded: false,
  locked: true, // editing is off (loading, generating, rewriting a section)
};

const current = () => ({ title: $("title").value, markdown: $("markdown").value });
// An emptied title is not a change (a draft always has a title); it is restored on blur.
const isDirty = () => {
  const c = current();
  return (c.title.trim() !== "" && c.title !== state.saved.title) || c.markdown !== state.saved.markdown;
};

// ---- save state ----------------------------------------------------------
function setSaveState(text, kind = "") {
  const node = $("save-state");
  node.textContent = text;
  node.className = `save-state${kind ? ` save-${kind}` : ""}`;
}

const showError = (message) => showMessage($("editor-error"), message);

// ---- rendering -----------------------------------------------------------
// `blog` is the API's whole blog (GET or PATCH answer); `replaceText` puts its text in the fields.
function applyBlog(blog, { replaceText = true } = {}) {
  state.blog = blog;
  state.revision = blog.revision;
  const { title, markdown } = blog;
  state.saved = { title, markdown };
  if (replaceText) {
    $("title").value = title;
    $("markdown").value = markdown;
  }
  $("crumb-title").textContent = title || "Untitled draft";
  document.title = `${title || "Untitled draft"} · Draftsmith`;
  renderPreview(blog.html);
  state.marks = highlightFlagged($("preview"), blog.grounding);
  renderCitations(blog);
  renderMeta();
  updateWordCount();
}

function renderMeta() {
  const b = state.blog;
  const parts = [`Revision ${state.revision}`, b.model ? `${b.engine} · ${b.model}` : b.engine];
  $("editor-meta").replaceChildren(badge(b.status), " ", parts.join(" · "), " · updated ", timeEl(b.updated_at));
}

// The same count as the API's word_count (wordcount.js ports the server's rule).
function updateWordCount() {
  const words = draftWordCount($("markdown").value);
  $("word-count").textContent = `${words.toLocaleString()} words`;
}

// The server's html is sanitised (nh3), its [n] markers already links to #source-n.
function renderPreview(html) {
  const preview = $("preview");
  preview.innerHTML = html;
  if (!html) preview.append(el("p", { class: "muted" }, "Nothing to preview yet."));
  else if (state.blog && state.blog.status === "ready" && state.blog.session_id) {
    addRewriteButtons(preview, { disabled: state.locked, onRewrite: rewriteSection });
  }
}

function renderCitations(blog) {
  const citations = blog.citations.slice().sort((a, b) => a.n - b.n);
  $("citations").replaceChildren(...citations.map(sourceCard));
  $("citation-count").textContent = citations.length ? `(${citations.length})` : "";
  $("citations-empty").hidden = citations.length > 0;

  const box = $("grounding");
  renderGrounding(box, blog.grounding, pickFlagged);
  for (const warning of blog.warnings || []) box.append(el("p", { class: "alert alert-warning" }, warning));
}

// Shows the i-th flagged sentence: its mark in the preview, and selected in the Markdown.
function pickFlagged(i) {
  const mark = state.marks && state.marks[i];
  if (mark) mark.scrollIntoView({ behavior: "smooth", block: "center" });
  const f = state.blog.grounding.flagged[i];
  if (!isDirty()) $("markdown").setSelectionRange(f.start, f.end);
}

function focusCitation(n) {
  const item = $(`citation-${n}`);
  if (!item) return;
  item.scrollIntoView({ behavior: "smooth", block: "nearest" });
  item.classList.remove("flash");
  void item.offsetWidth; // restart the animation
  item.classList.add("flash");
  item.focus({ preventScroll: true });
}

// ---- saving --------------------------------------------------------------
function scheduleAutosave() {
  window.clearTimeout(state.timer);
  if (state.conflict) return;
  state.timer = window.setTimeout(() => save(), AUTOSAVE_MS);
}

function onEdit() {
  updateWordCount();
  if (state.conflict) { setSaveState("Not saved — resolve the conflict", "error"); return; }
  if (isDirty()) { setSaveState("Unsaved changes", "dirty"); scheduleAutosave(); } else setSaveState("All changes saved", "ok");
}

// Saves the editor's text; resolves true when the server has it.
async function save({ force = false } = {}) {
  window.clearTimeout(state.timer);
  if (state.saving) { await state.saving; return save({ force }); }
  if (state.conflict && !force) return false;
  if (!isDirty() && !force) { setSaveState("All changes saved", "ok"); return true; }
  const snapshot = current();
  state.saving = (async () => {
    setSaveState("Saving…", "busy");
    try {
      const body = { revision: state.revision, markdown: snapshot.markdown };
      if (snapshot.title.trim()) body.title = snapshot.title;
      const blog = await api.patch(blogUrl, body);
      // What the editor holds is what was saved (even if the server tidied it), so no save loop.
      applyBlog({ ...blog, title: body.title ?? blog.title, markdown: snapshot.markdown }, { replaceText: false });
      state.conflict = false;
      $("conflict").hidden = true;
      showError("");
      if (isDirty()) { setSaveState("Unsaved changes", "dirty"); scheduleAutosave(); } else setSaveState("All changes saved", "ok");
      if (state.historyLoaded) loadHistory();
      return true;
    } catch (error) {
      if (error.status === 409) {
        showConflict();
      } else if (error.status === 0 || error.status >= 500) {
        setSaveState("Couldn't save — retrying…", "error");
        state.timer = window.setTimeout(() => save(), 5000);
      } else {
        setSaveState("Not saved", "error");
        showError(`Couldn't save: ${errorMessage(error)}`);
      }
      return false;
    }
  })();
  try { return await state.saving; } finally { state.saving = null; }
}

function showConflict() {
  state.conflict = true;
  window.clearTimeout(state.timer);
  setSaveState("Not saved — conflict", "error");
  $("conflict").hidden = false;
  $("conflict-reload").focus();
}

async function reloadLatest() {
  try {
    const blog = await api.get(blogUrl);
    state.conflict = false;
    $("conflict").hidden = true;
    applyBlog(blog, { replaceText: true });
    setSaveState("Reloaded the latest revision", "ok");
    if (state.historyLoaded) loadHistory();
  } catch (error) {
    showError(`Couldn't reload: ${errorMessage(error)}`);
  }
}

async function overwriteWithMine() {
  try {
    const latest = await api.get(blogUrl);
    state.revision = latest.revision;
    state.conflict = false;
    $("conflict").hidden = true;
    if (await save({ force: true })) toast("Your version is saved as the latest revision");
  } catch (error) {
    showError(`Couldn't overwrite: ${errorMessage(error)}`);
  }
}

// ---- history -------------------------------------------------------------
const SOURCES = { generated: "Generated", edit: "Edited", rewrite: "Rewrote a section" };

async function loadHistory() {
  const list = $("revisions");
  try {
    const revisions = (await api.get(`${blogUrl}/revisions`)).items; // newest first
    state.historyLoaded = true;
    if (!revisions.length) { list.replaceChildren(el("li", { class: "muted small" }, "No earlier revisions.")); return; }
    list.replaceChildren(...revisions.map((r) => {
      const isCurrent = r.revision === state.revision;
      const view = el("button", { type: "button", class: "btn btn-ghost btn-sm", "aria-label": `View revision ${r.revision}` }, "View");
      view.addEventListener("click", () => viewRevision(r.revision));
      return el("li", { class: `revision${isCurrent ? " revision-current" : ""}` },
        el("div", { class: "revision-main" },
          el("span", { class: "revision-n" }, `Revision ${r.revision}`, isCurrent ? el("span", { class: "badge badge-ready" }, "current") : null),
          el("span", { class: "muted small" }, SOURCES[r.source] || r.source, " · ", timeEl(r.created_at))),
        view);
    }));
  } catch (error) {
    list.replaceChildren(el("li", { class: "text-danger small" }, `Couldn't load the history: ${errorMessage(error)}`));
  }
}

// A revision is {revision, title, source, created_at, markdown}: shown as its Markdown.
async function viewRevision(n) {
  const content = el("div", { class: "revision-view", "aria-busy": "true" }, el("p", { class: "muted" }, "Loading…"));
  const restore = el("button", { type: "button", class: "btn btn-primary", disabled: true }, "Restore");
  const dialog = showDialog({ title: `Revision ${n}`, content, actions: [restore], wide: true });
  let revision = null;
  try {
    revision = await api.get(path`/api/v1/blogs/${blogId}/revisions/${n}`);
    content.replaceChildren(
      el("p", { class: "muted small" }, [revision.title, formatDate(revision.created_at)].filter(Boolean).join(" · ")),
      el("pre", { class: "pre-wrap revision-markdown" }, revision.markdown));
    restore.disabled = n === state.revision;
    if (n === state.revision) restore.title = "This is the current revision";
  } catch (error) {
    content.replaceChildren(el("p", { class: "text-danger", role: "alert" }, `Couldn't load revision ${n}: ${errorMessage(error)}`));
  }
  content.removeAttribute("aria-busy");
  restore.addEventListener("click", async () => {
    if (!revision) return;
    restore.disabled = true;
    if (isDirty() && !(await save())) { restore.disabled = false; return; }
    $("title").value = revision.title;
    $("markdown").value = revision.markdown;
    if (await save({ force: true })) {
      dialog.close();
      toast(`Restored revision ${n}`);
    } else restore.disabled = false;
  });
}

// ---- generation ----------------------------------------------------------
function setEditable(editable) {
  state.locked = !editable;
  for (const id of ["title", "markdown", "save", "regenerate"]) $(id).disabled = !editable;
  for (const button of document.querySelectorAll(".section-rewrite")) button.disabled = !editable;
  $("editor-grid").classList.toggle("is-locked", !editable);
}

// ---- rewriting one section ------------------------------------------------
// The section's new text arrives as the next revision; editing waits meanwhile (a save
// would make the rewrite a conflict), and "Undo" restores the revision before it.
async function rewriteSection(index, heading, h2) {
  const instructions = await askInstructions(heading);
  if (instructions === null) return;
  if (isDirty() && !(await save())) return;
  const base = state.revision;
  let run;
  try {
    run = await startRewrite(blogId, index, base, instructions);
  } catch (error) {
    if (error.code === "revision_conflict") showConflict();
    else showError(`Couldn't rewrite “${heading}”: ${errorMessage(error)}`);
    return;
  }
  setEditable(false);
  setSaveState("Rewriting a section…", "busy");
  const line = progressLine(h2);
  line.say(`Rewriting “${heading}”…`);
  const cancel = line.action("Cancel", async () => {
    cancel.disabled = true;
    try { await api.post(`${blogUrl}/cancel`); } catch (error) { cancel.disabled = false; toast(`Couldn't cancel: ${errorMessage(error)}`, "error"); }
  }, { "aria-label": `Cancel the rewrite of “${heading}”` });
  followRewrite({
    sessionId: state.blog.session_id, blogId, rewriteId: run.rewrite_id,
    onEvent: (data) => rewriteEvent(data, { index, heading, base, line }),
  });
}

async function rewriteEvent(data, { index, heading, base, line }) {
  if (data.state === "running") { if (data.message) line.say(data.message); return; }
  if (data.state === "done") {
    try {
      applyBlog(await api.get(blogUrl));
    } catch (error) { showError(errorMessage(error)); }
    setEditable(true);
    setSaveState("All changes saved", "ok");
    loadHistory();
    const h2 = $("preview").querySelectorAll("h2")[index];
    const done = progressLine(h2 || $("preview"));
    done.say(`“${heading}” was rewritten (revision ${data.revision}).`, "done");
    done.action("Undo", () => undoRewrite(base, data.revision), { "aria-label": `Undo the rewrite of “${heading}”` });
    toast(`“${heading}” rewritten`);
    return;
  }
  setEditable(true);
  setSaveState("All changes saved", "ok");
  line.line.querySelector("button")?.remove();
  if (data.state === "cancelled") line.say("The rewrite was cancelled; the section is unchanged.", "failed");
  else if (data.code === "revision_conflict") { line.say(data.message, "failed"); showConflict(); }
  else line.say(data.message || "The section could not be rewritten.", "failed");
}

// Back to revision `base` (as a new revision), if nothing was saved since the rewrite.
async function undoRewrite(base, rewritten) {
  if (state.revision !== rewritten || isDirty()) {
    showError("The draft changed since the rewrite: restore the earlier revision from History instead.");
    return;
  }
  try {
    const revision = await api.get(path`/api/v1/blogs/${blogId}/revisions/${base}`);
    $("title").value = revision.title;
    $("markdown").value = revision.markdown;
    if (await save({ force: true })) toast(`Restored revision ${base}`);
  } catch (error) {
    showError(`Couldn't undo: ${errorMessage(error)}`);
  }
}

const CANCELLED = "The generation was cancelled. Use Regenerate to write a new draft.";

function followGeneration(sessionId) {
  setEditable(false);
  $("progress").hidden = false;
  setSaveState("Generating…", "busy");
  trackGeneration({
    sessionId, blogId,
    onDone: async () => {
      try {
        const blog = await api.get(blogUrl);
        $("progress").hidden = true;
        applyBlog(blog);
        setEditable(true);
        setSaveState("All changes saved", "ok");
        loadHistory();
        toast("Your draft is ready");
      } catch (error) { showError(errorMessage(error)); }
    },
    onError: (message, cancelled) => {
      $("progress").hidden = true;
      state.blog.status = cancelled ? "cancelled" : "failed";
      renderMeta();
      showError(cancelled ? CANCELLED : `The draft could not be written: ${message}`);
      setEditable(true);
      setSaveState("", "");
    },
  });
}

// A regeneration is a new draft of the same session, from the brief shown prefilled (and
// changed if the user likes): it opens in its own editor.
async function regenerate() {
  if (!state.blog.session_id) {
    showError("The session of this draft was deleted; start a new draft from Generate.");
    return;
  }
  openBriefDialog({
    blog: state.blog,
    llmConfigured: $("editor").dataset.llm === "1",
    beforeSubmit: () => (isDirty() ? save() : true),
  });
}

// ---- start ---------------------------------------------------------------
async function start() {
  let blog;
  try {
    blog = await api.get(blogUrl);
  } catch (error) {
    $("editor").removeAttribute("aria-busy");
    if (error.status === 404) {
      for (const node of $("editor").children) if (node.id !== "not-found") node.hidden = true;
      $("not-found").hidden = false;
    } else showError(`Couldn't load the draft: ${errorMessage(error)}`);
    setSaveState("", "");
    return;
  }
  if (blog.status === "outline_ready") { // its outline awaits review on the generate page
    window.location.replace(`/dashboard/generate?blog=${encodeURIComponent(blog.id)}`);
    return;
  }
  applyBlog(blog);
  $("editor").removeAttribute("aria-busy");
  if (BUSY.has(blog.status)) {
    followGeneration(blog.session_id);
  } else {
    setEditable(true);
    setSaveState("All changes saved", "ok");
    if (blog.status === "failed") showError(`The draft could not be written: ${blog.error || "unknown error"}. Try Regenerate.`);
    if (blog.status === "cancelled") showError(CANCELLED);
  }
  loadHistory();
}

$("title").addEventListener("input", onEdit);
$("title").addEventListener("blur", () => { if (!$("title").value.trim()) { $("title").value = state.saved.title; onEdit(); } });
$("markdown").addEventListener("input", onEdit);
$("save").addEventListener("click", () => save());
$("regenerate").addEventListener("click", regenerate);
$("conflict-reload").addEventListener("click", reloadLatest);
$("conflict-overwrite").addEventListener("click", overwriteWithMine);
document.addEventListener("keydown", (e) => {
  if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "s") { e.preventDefault(); if (!$("save").disabled) save(); }
});
// A citation marker links to #source-n; it shows the source in the sidebar instead.
$("preview").addEventListener("click", (e) => {
  const ref = e.target.closest("a[href^='#source-']");
  const n = ref && ref.getAttribute("href").slice("#source-".length);
  if (n && $(`citation-${n}`)) { e.preventDefault(); focusCitation(n); }
});
for (const link of document.querySelectorAll(".export a")) {
  link.addEventListener("click", async (e) => {
    if (link.dataset.ready === "1" || (!isDirty() && !state.saving)) { delete link.dataset.ready; return; }
    e.preventDefault(); // export what the user sees: save first
    if (await save()) { link.dataset.ready = "1"; link.click(); }
  });
}
window.addEventListener("beforeunload", (e) => {
  if (isDirty() || state.saving) { e.preventDefault(); e.returnValue = ""; }
});
start();
