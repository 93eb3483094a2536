// Generate: pick ready documents and a brief, create the session, follow its progress, open the editor.
import { api, path } from "./api.js";
import { showOutline } from "./outline.js";
import { trackGeneration } from "./progress.js";
import { byId as $, documentLabel, el, errorMessage, nameCounts, showMessage } from "./ui.js";

const state = { docs: [], selected: new Set(), pendingTimer: null, busy: false };
// The last coverage answer for the brief as typed (null while none), and the debounce.
const coverage = { timer: null, asked: 0, result: null, key: "" };
const COVERAGE_DELAY_MS = 400;

async function loadAll() {
  const all = [];
  let cursor = null;
  for (let page = 0; page < 20; page += 1) {
    const params = new URLSearchParams({ limit: "100" });
    if (cursor) params.set("cursor", cursor);
    const data = await api.get(`/api/v1/documents?${params}`);
    all.push(...data.items);
    cursor = data.next_cursor;
    if (!cursor) break;
  }
  return all;
}

async function refreshDocs() {
  const box = $("doc-choices");
  try {
    state.docs = await loadAll();
  } catch (error) {
    box.replaceChildren(el("p", { class: "text-danger", role: "alert" }, `Couldn't load your documents: ${errorMessage(error)}`));
    box.removeAttribute("aria-busy");
    return;
  }
  renderChoices();
  const pending = state.docs.filter((d) => d.status === "queued" || d.status === "processing").length;
  showMessage($("pending-note"), pending
    ? `${pending} document${pending === 1 ? " is" : "s are"} still processing and will appear here when ready.`
    : "");
  window.clearTimeout(state.pendingTimer);
  if (pending) state.pendingTimer = window.setTimeout(refreshDocs, 3000);
}

function renderChoices() {
  if (state.busy) return;
  const box = $("doc-choices");
  const ready = state.docs.filter((d) => d.status === "ready");
  const known = new Set(ready.map((d) => d.id));
  for (const id of [...state.selected]) if (!known.has(id)) state.selected.delete(id);
  box.removeAttribute("aria-busy");
  $("sources-tools").hidden = ready.length < 2;
  if (!ready.length) {
    box.replaceChildren(el("div", { class: "empty empty-compact" },
      el("p", { class: "empty-title" }, "No ready documents yet — upload some"),
      el("a", { class: "btn btn-primary btn-sm", href: "/dashboard/documents" }, "Go to Documents")));
    updateCount();
    return;
  }
  const filter = $("source-filter").value.trim().toLowerCase();
  const named = nameCounts(ready);
  box.replaceChildren(...ready.map((doc, i) => {
    const id = `doc-choice-${i}`;
    const meta = [doc.page_count ? `${doc.page_count} p.` : "", doc.word_count ? `${doc.word_count.toLocaleString()} words` : ""].filter(Boolean).join(" · ");
    const input = el("input", { type: "checkbox", id, value: doc.id, checked: state.selected.has(doc.id) });
    input.addEventListener("change", () => {
      if (input.checked) state.selected.add(doc.id); else state.selected.delete(doc.id);
      updateCount();
      $("sources").classList.remove("invalid");
      scheduleCoverage();
    });
    const row = el("div", { class: "check-row", hidden: Boolean(filter) && !doc.filename.toLowerCase().includes(filter) },
      input,
      documentLabel(id, doc, named.get(doc.filename) > 1),
      meta ? el("span", { class: "muted small check-meta" }, meta) : null);
    return row;
  }));
  updateCount();
}

const visibleChoices = () => [...$("doc-choices").querySelectorAll(".check-row:not([hidden]) input")];

function updateCount() {
  const n = state.selected.size;
  $("selected-count").textContent = n ? `${n} selected` : "";
  const visible = visibleChoices();
  $("select-all").textContent = visible.length && visible.every((i) => i.checked) ? "Clear selection" : "Select all";
}

async function prefill() {
  const params = new URLSearchParams(window.location.search);
  for (const id of (params.get("documents") || "").split(",").filter(Boolean)) state.selected.add(id);
  const sessionId = params.get("session");
  if (!sessionId) return;
  try {
    const s = await api.get(path`/api/v1/sessions/${sessionId}`);
    for (const key of ["topic", "title", "audience", "tone", "length", "language", "instructions", "engine"]) {
      if (s[key]) $(key).value = s[key];
    }
    for (const id of s.document_ids) state.selected.add(id);
    $("allow-thin").checked = Boolean(s.allow_thin_sources);
  } catch (_) { /* a stale link: start from an empty form */ }
}

// --- coverage: do the chosen documents cover the topic? (asked again on every pause) ---

const coverageKey = () => JSON.stringify([$("topic").value.trim(), [...state.selected].sort()]);

function scheduleCoverage() {
  window.clearTimeout(coverage.timer);
  coverage.timer = window.setTimeout(checkCoverage, COVERAGE_DELAY_MS);
}

async function checkCoverage() {
  const topic = $("topic").value.trim();
  const key = coverageKey();
  const asked = ++coverage.asked;
  if (topic.length < 3 || !state.selected.size) {
    coverage.result = null;
    $("coverage").hidden = true;
    return;
  }
  try {
    const result = await api.post("/api/v1/coverage", { topic, document_ids: [...state.selected] });
    if (asked !== coverage.asked) return; // a newer question is on its way
    coverage.result = result;
    coverage.key = key;
    showCoverage(topic, result);
  } catch (error) {
    if (asked !== coverage.asked) return;
    coverage.result = null;
    showCoverageProblem(error.code === "documents_not_ready"
      ? "Coverage is measured once every selected document is ready."
      : `Couldn't measure coverage: ${errorMessage(error)}`);
  }
}

const terms = (list, words) => list.replaceChildren(...(words.length
  ? words.map((w) => el("li", { class: "term" }, w))
  : [el("li", { class: "term-none" }, "none")]));

function showCoverage(topic, result) {
  const box = $("coverage");
  box.hidden = false;
  box.dataset.state = result.covered ? "covered" : "thin";
  $("coverage-meter").value = result.score;
  $("coverage-score").textContent = `${Math.round(result.score * 100)}%`;
  $("coverage-score").className = `badge ${result.covered ? "badge-ready" : "badge-failed"}`;
  $("coverage-terms").hidden = false;
  terms($("coverage-found"), result.found);
  terms($("coverage-missing"), result.missing);
  const about = result.about.length ? ` They are about: ${result.about.join("; ")}.` : "";
  const missing = result.missing.map((m) => `“${m}”`).join(", ");
  $("coverage-state").textContent = result.covered
    ? "Your documents cover this topic."
    : `Your documents don't cover “${topic}”${missing ? `: they never mention ${missing}` : ""}.${about}`;
  $("allow-thin-row").hidden = result.covered;
}

function showCoverageProblem(message) {
  $("coverage").hidden = false;
  $("coverage").dataset.state = "unknown";
  $("coverage-score").textContent = "";
  $("coverage-score").className = "badge";
  $("coverage-meter").value = 0;
  $("coverage-terms").hidden = true;
  $("allow-thin-row").hidden = true;
  $("coverage-state").textContent = message;
}

// --- honest options: what the chosen engine uses ---

function showEngineOptions() {
  const extractive = $("engine").value === "extractive";
  for (const note of document.querySelectorAll("[data-llm-only]")) note.hidden = !extractive;
}

const showError = (message) => showMessage($("generate-error"), message);

function setBusy(busy) {
  state.busy = busy;
  for (const control of $("generate-form").querySelectorAll("input, select, textarea, button")) control.disabled = busy;
  $("generate-button").textContent = busy ? "Generating…" : "Generate";
}

// "Plan first": the outline is shown for review (and the page's address names the blog, so
// leaving and coming back shows it again).
async function reviewOutline(blogId) {
  try {
    const blog = await api.get(path`/api/v1/blogs/${blogId}`);
    window.history.replaceState(null, "", `/dashboard/generate?blog=${encodeURIComponent(blogId)}`);
    $("progress").hidden = true;
    $("generate-form").hidden = true;
    showOutline(blog, { onWrite: (id) => startProgress(blog.session_id, id) });
  } catch (error) {
    showForm();
    showError(`Couldn't load the outline: ${errorMessage(error)}`);
  }
}

// A blog named in the address (`?blog=`): its outline to review, or its progress.
async function resume(blogId) {
  let blog;
  try {
    blog = await api.get(path`/api/v1/blogs/${blogId}`);
  } catch (_) { return false; }
  if (blog.status === "outline_ready") { await reviewOutline(blog.id); return true; }
  if (blog.status === "queued" || blog.status === "generating") {
    startProgress(blog.session_id, blog.id, { planning: blog.revision === 0 && !blog.outline });
    return true;
  }
  window.location.replace(path`/dashboard/blogs/${blog.id}`);
  return true;
}

async function submit(event) {
  event.preventDefault();
  const planning = event.submitter && event.submitter.id === "plan-button";
  showError("");
  const topic = $("topic").value.trim();
  const problems = [];
  $("topic").removeAttribute("aria-invalid");
  $("sources").classList.remove("invalid");
  if (!state.selected.size) { problems.push("Choose at least one document."); $("sources").classList.add("invalid"); }
  if (topic.length < 3) { problems.push(topic ? "The topic needs at least 3 characters." : "Enter a topic."); $("topic").setAttribute("aria-invalid", "true"); }
  if (problems.length) {
    showError(problems.join(" "));
    (topic.length >= 3 ? $("doc-choices").querySelector("input") || $("topic") : $("topic")).focus();
    return;
  }
  const thin = coverage.result && coverage.key === coverageKey() && !coverage.result.covered;
  if (thin && !$("allow-thin").checked) {
    showError("Your documents don't cover this topic. Choose documents about it, change the topic, or tick “Write anyway from thin sources”.");
    $("allow-thin").focus();
    return;
  }
  const body = {
    topic, document_ids: [...state.selected], length: $("length").value, engine: $("engine").value,
    allow_thin_sources: $("allow-thin").checked,
  };
  for (const key of ["title", "audience", "tone", "language", "instructions"]) {
    const value = $(key).value.trim();
    if (value) body[key] = value;
  }
  setBusy(true);
  try {
    const session = await api.post("/api/v1/sessions", body);
    const run = await api.post(path`/api/v1/sessions/${session.id}/generate`, planning ? { review_outline: true } : undefined);
    startProgress(session.id, run.blog_id, { planning });
  } catch (error) {
    setBusy(false);
    showError(error.code === "documents_not_ready"
      ? `${errorMessage(error)} Wait until every selected document is ready, then try again.`
      : errorMessage(error));
    if (error.code === "documents_not_ready") refreshDocs();
  }
}

function showForm() {
  $("progress").hidden = true;
  $("generate-form").hidden = false;
  setBusy(false);
}

function startProgress(sessionId, blogId, { planning = false } = {}) {
  $("generate-form").hidden = true;
  $("progress-bar").hidden = false;
  $("progress-stage").hidden = false;
  const card = $("progress");
  $("progress-error").hidden = true;
  $("progress-actions").hidden = true;
  $("progress-title").textContent = planning ? "Planning your outline…" : "Writing your draft…";
  $("progress-badge").hidden = false;
  card.hidden = false;
  window.scrollTo({ top: 0 });
  card.focus({ preventScroll: true });
  trackGeneration({
    sessionId, blogId, planning,
    onDone: (data) => (data && data.status === "outline_ready"
      ? reviewOutline(blogId)
      : window.location.assign(path`/dashboard/blogs/${blogId}`)),
    onError: (message, cancelled) => {
      $("progress-title").textContent = cancelled ? "Generation cancelled" : "The draft could not be written";
      $("progress-badge").hidden = true;
      $("progress-bar").hidden = true;
      $("progress-stage").hidden = true;
      $("progress-error").className = `alert ${cancelled ? "alert-warning" : "alert-error"}`;
      $("progress-error").textContent = cancelled ? "Nothing was written. Change the brief or generate again." : message;
      $("progress-error").hidden = false;
      $("progress-actions").hidden = false;
      $("progress-back").focus();
    },
  });
}

$("generate-form").addEventListener("submit", submit);
$("topic").addEventListener("input", scheduleCoverage);
$("engine").addEventListener("change", showEngineOptions);
$("progress-back").addEventListener("click", () => { showForm(); $("topic").focus(); });
$("source-filter").addEventListener("input", renderChoices);
$("select-all").addEventListener("click", () => {
  const visible = visibleChoices();
  const all = visible.every((i) => i.checked);
  for (const input of visible) {
    input.checked = !all;
    if (input.checked) state.selected.add(input.value); else state.selected.delete(input.value);
  }
  updateCount();
  scheduleCoverage();
});
$("progress").setAttribute("tabindex", "-1");
const resumed = new URLSearchParams(window.location.search).get("blog");
if (!(resumed && (await resume(resumed)))) {
  await prefill();
  showEngineOptions();
  await refreshDocs();
  scheduleCoverage();
}
