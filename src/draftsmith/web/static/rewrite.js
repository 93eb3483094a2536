// Rewriting one section of a draft (editor): a "Rewrite" button beside each section heading
// of the preview, a dialog for optional instructions, the progress inline under the heading
// (the session's `rewrite` events), and the result as a new revision.
import { api, path } from "./api.js";
import { el, showDialog } from "./ui.js";

// The preview's body section headings (h2), in `##` order: the Sources list is not one.
export function sectionHeadings(preview) {
  const all = [...preview.querySelectorAll("h2")];
  const sources = all.findIndex((h) => /^(sources|references)$/i.test(h.textContent.trim()));
  return sources >= 0 ? all.slice(0, sources) : all;
}

// Puts a Rewrite button on each section heading; `onRewrite(index, heading, h2)` on a click.
export function addRewriteButtons(preview, { disabled, onRewrite }) {
  sectionHeadings(preview).forEach((h2, index) => {
    const heading = h2.textContent.trim();
    const button = el("button", {
      type: "button", class: "btn btn-ghost btn-sm section-rewrite", disabled,
      "aria-label": `Rewrite section “${heading}”`, title: "Write this section again from other passages",
    }, "Rewrite");
    button.addEventListener("click", () => onRewrite(index, heading, h2));
    h2.append(button);
  });
}

// Asks for optional instructions; resolves the text ("" for none) or null when dismissed.
export function askInstructions(heading) {
  return new Promise((resolve) => {
    const id = "rewrite-instructions";
    const input = el("textarea", { id, rows: "3", maxlength: "2000", placeholder: "e.g. focus on the dates; shorter (optional)" });
    const content = el("div", {},
      el("p", { class: "muted" }, "The section is written again from passages the rest of the draft does not quote. Everything else stays as it is, and the old text stays in History."),
      el("div", { class: "field" },
        el("label", { for: id }, "Instructions ", el("span", { class: "optional" }, "(optional)")), input));
    const go = el("button", { type: "button", class: "btn btn-primary" }, "Rewrite");
    let answer = null;
    const dialog = showDialog({ title: `Rewrite “${heading}”`, content, actions: [go] });
    go.addEventListener("click", () => { answer = input.value.trim(); dialog.close(); });
    dialog.addEventListener("close", () => resolve(answer));
    input.focus();
  });
}

// Follows rewrite `rewriteId` on the session's stream: onEvent(data) for each of its
// `rewrite` events; the stream is closed once its state is final. Returns {stop()}.
export function followRewrite({ sessionId, blogId, rewriteId, onEvent }) {
  const url = path`/api/v1/sessions/${sessionId}/events` + `?blog_id=${encodeURIComponent(blogId)}`;
  const source = new EventSource(url);
  source.addEventListener("rewrite", (event) => {
    const data = JSON.parse(event.data);
    if (data.rewrite_id !== rewriteId) return;
    if (data.state !== "running") source.close();
    onEvent(data);
  });
  return { stop: () => source.close() };
}

// The progress line under a section heading: a message, and its buttons.
export function progressLine(h2) {
  const text = el("span", {}, "");
  const line = el("div", { class: "rewrite-progress", role: "status" },
    el("span", { class: "spinner", "aria-hidden": "true" }), text);
  h2.after(line);
  return {
    line,
    say(message, kind = "") {
      text.textContent = message;
      line.className = `rewrite-progress${kind ? ` rewrite-${kind}` : ""}`;
      if (kind) line.querySelector(".spinner")?.remove();
    },
    action(label, onClick, attrs = {}) {
      const button = el("button", { type: "button", class: "btn btn-ghost btn-sm", ...attrs }, label);
      button.addEventListener("click", onClick);
      line.append(button);
      return button;
    },
  };
}

export const startRewrite = (blogId, index, revision, instructions) =>
  api.post(path`/api/v1/blogs/${blogId}/sections/${index}/regenerate`,
    instructions ? { revision, instructions } : { revision });
