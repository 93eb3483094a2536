// The editor's "Regenerate": the brief this draft was written from, prefilled in a dialog;
// submitting changes the session's brief (PATCH) and generates a new blog of the same
// session (POST …/generate). This draft keeps its own brief; the blogs list tells them apart.
import { api, path } from "./api.js";
import { documentLabel, el, errorMessage, nameCounts, showDialog, showMessage } from "./ui.js";

const TEXT_FIELDS = ["title", "audience", "tone", "language", "instructions"];
const LENGTHS = [["short", "Short (about 500 words)"], ["medium", "Medium (about 1,000)"], ["long", "Long (about 1,800)"]];

async function readyDocuments() {
  const docs = [];
  let cursor = null;
  for (let page = 0; page < 20; page += 1) {
    const params = new URLSearchParams({ limit: "100", status: "ready" });
    if (cursor) params.set("cursor", cursor);
    const data = await api.get(`/api/v1/documents?${params}`);
    docs.push(...data.items);
    cursor = data.next_cursor;
    if (!cursor) break;
  }
  return docs;
}

function field(id, label, control, hint) {
  return el("div", { class: "field" }, el("label", { for: id }, label, hint ? el("span", { class: "optional" }, ` ${hint}`) : null), control);
}

function documentChoices(docs, selected) {
  const named = nameCounts(docs);
  const rows = docs.map((doc, i) => {
    const id = `brief-doc-${i}`;
    return el("div", { class: "check-row" },
      el("input", { type: "checkbox", id, name: "document_ids", value: doc.id, checked: selected.has(doc.id) }),
      documentLabel(id, doc, named.get(doc.filename) > 1));
  });
  const missing = [...selected].filter((id) => !docs.some((d) => d.id === id)).length;
  return el("fieldset", { class: "brief-docs" },
    el("legend", {}, "Documents"),
    el("div", { class: "checklist brief-checklist" }, rows.length ? rows : el("p", { class: "muted" }, "No ready documents.")),
    missing ? el("p", { class: "muted small" }, `${missing} document${missing === 1 ? " of this brief was" : "s of this brief were"} deleted or not ready.`) : null);
}

function buildForm(brief, docs, llmConfigured) {
  const input = (id, value, attrs = {}) => el("input", { id: `brief-${id}`, name: id, type: "text", value: value || "", ...attrs });
  const length = el("select", { id: "brief-length", name: "length" }, LENGTHS.map(([v, t]) => el("option", { value: v, selected: brief.length === v }, t)));
  const engine = el("select", { id: "brief-engine", name: "engine" },
    el("option", { value: "extractive", selected: brief.engine !== "llm" }, "Extractive"),
    el("option", { value: "llm", selected: brief.engine === "llm", disabled: !llmConfigured && brief.engine !== "llm" }, llmConfigured ? "LLM" : "LLM (not configured)"));
  const instructions = el("textarea", { id: "brief-instructions", name: "instructions", rows: "3", maxlength: "4000" });
  instructions.value = brief.instructions || "";
  return el("form", { id: "brief-form", class: "brief-form", novalidate: true },
    field("brief-topic", "Topic", input("topic", brief.topic, { required: true, minlength: "3", maxlength: "2000" })),
    documentChoices(docs, new Set(brief.document_ids)),
    field("brief-title", "Title", input("title", brief.title, { maxlength: "300", placeholder: "Leave empty to let Draftsmith suggest one" }), "(optional)"),
    el("div", { class: "field-row" },
      field("brief-audience", "Audience", input("audience", brief.audience, { maxlength: "300" })),
      field("brief-tone", "Tone", input("tone", brief.tone, { maxlength: "100" }))),
    el("div", { class: "field-row field-row-3" },
      field("brief-length", "Length", length),
      field("brief-language", "Language", input("language", brief.language, { maxlength: "50", placeholder: "As the documents" })),
      field("brief-engine", "Engine", engine)),
    field("brief-instructions", "Instructions", instructions, "(optional)"),
    el("div", { class: "check-row" },
      el("input", { type: "checkbox", id: "brief-thin", name: "allow_thin_sources", checked: Boolean(brief.allow_thin_sources) }),
      el("label", { for: "brief-thin" }, "Write anyway from thin sources ", el("span", { class: "muted" }, "(the draft carries a warning)"))),
    el("div", { id: "brief-error", class: "alert alert-error", role: "alert", hidden: true }));
}

// The session PATCH body: every field of the brief (an emptied optional one is cleared).
function briefBody(form) {
  // by selector: `form.elements.length` is the number of controls, not the Length select
  const value = (name) => form.querySelector(`[name="${name}"]`).value.trim();
  const body = {
    topic: value("topic"),
    document_ids: [...form.querySelectorAll("input[name=document_ids]:checked")].map((i) => i.value),
    length: value("length"),
    engine: value("engine"),
    allow_thin_sources: form.querySelector("[name=allow_thin_sources]").checked,
  };
  for (const name of TEXT_FIELDS) body[name] = value(name) || null;
  return body;
}

function problems(body) {
  const found = [];
  if (body.topic.length < 3) found.push(body.topic ? "The topic needs at least 3 characters." : "Enter a topic.");
  if (!body.document_ids.length) found.push("Choose at least one document.");
  return found;
}

// Opens the dialog; on success the browser goes to the new draft's editor.
export async function openBriefDialog({ blog, llmConfigured, beforeSubmit }) {
  const content = el("div", { class: "brief-dialog", "aria-busy": "true" }, el("p", { class: "muted" }, "Loading the brief…"));
  const submit = el("button", { type: "submit", form: "brief-form", class: "btn btn-primary", disabled: true }, "Write a new draft");
  const dialog = showDialog({ title: "Regenerate with this brief", content, actions: [submit], wide: true });
  let brief = blog.brief;
  let docs;
  try {
    if (!brief) brief = await api.get(path`/api/v1/sessions/${blog.session_id}`); // a draft from before briefs were kept
    docs = await readyDocuments();
  } catch (error) {
    content.replaceChildren(el("p", { class: "text-danger", role: "alert" }, `Couldn't load the brief: ${errorMessage(error)}`));
    content.removeAttribute("aria-busy");
    return;
  }
  const form = buildForm(brief, docs, llmConfigured);
  content.replaceChildren(
    el("p", { class: "muted small brief-note" }, "Change anything, then write a new draft of the same session. This draft stays as it is, with the brief it was written from."),
    form);
  content.removeAttribute("aria-busy");
  submit.disabled = false;
  form.querySelector("[name=topic]").focus();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = briefBody(form);
    const found = problems(body);
    showMessage(form.querySelector("#brief-error"), found.join(" "));
    if (found.length) return;
    submit.disabled = true;
    submit.textContent = "Starting…";
    try {
      if (beforeSubmit && !(await beforeSubmit())) throw new Error("Save your edits first.");
      await api.patch(path`/api/v1/sessions/${blog.session_id}`, body);
      const run = await api.post(path`/api/v1/sessions/${blog.session_id}/generate`);
      window.location.assign(path`/dashboard/blogs/${run.blog_id}`);
    } catch (error) {
      showMessage(form.querySelector("#brief-error"), errorMessage(error));
      submit.disabled = false;
      submit.textContent = "Write a new draft";
    }
  });
  return dialog;
}
