// Grounding in the editor: the score, a "Check" panel listing every flagged sentence
// with its reason, and the flagged sentences highlighted in the preview. The server
// checks every save; `grounding.flagged[i]` has {sentence, start, end, reason,
// citations, detail}, `start`/`end` being offsets into the saved Markdown.
import { el } from "./ui.js";

const REASONS = {
  unknown_citation: (f) => `Cites ${f.citations.map((n) => `[${n}]`).join(" ")}, which is not one of the sources`,
  unsupported: (f) => `Not supported by ${f.citations.map((n) => `[${n}]`).join(" ")}`,
  uncited: () => "States a fact without citing a source",
};

export const reasonText = (f) => (REASONS[f.reason] || (() => f.reason))(f);

function scoreMeter(grounding) {
  const pct = Math.round(grounding.score * 100);
  const meter = el("div", { class: "meter", role: "img", "aria-label": `Grounding ${pct}%` }, el("span", { class: "meter-fill" }));
  meter.firstChild.style.width = `${pct}%`;
  meter.classList.add(pct >= 90 ? "meter-good" : pct >= 70 ? "meter-fair" : "meter-poor");
  return el("div", { class: "grounding-score" }, el("span", { class: "small" }, `Grounding ${pct}%`), meter);
}

// The score and the Check panel in `box`; `onPick(i)` when the i-th flagged sentence is chosen.
export function renderGrounding(box, grounding, onPick) {
  box.replaceChildren();
  if (!grounding) return;
  box.append(scoreMeter(grounding));
  const flagged = grounding.flagged || [];
  const panel = el("section", { class: "check-panel", id: "check-panel", "aria-labelledby": "check-title" },
    el("h3", { class: "check-title", id: "check-title" }, flagged.length ? `Check ${flagged.length} sentence${flagged.length === 1 ? "" : "s"}` : "Check"));
  const checked = `${grounding.checked} sentence${grounding.checked === 1 ? "" : "s"} checked`;
  if (!flagged.length) {
    panel.append(el("p", { class: "muted small" }, `${checked}: each is supported by the source it cites.`));
  } else {
    panel.append(el("p", { class: "muted small" }, `${checked} against the sources they cite.`));
    panel.append(el("ol", { class: "check-list" }, ...flagged.map((f, i) => el("li", { class: `check-item check-${f.reason}` },
      el("button", { type: "button", class: "check-pick", onclick: () => onPick(i) },
        el("strong", { class: "check-reason" }, reasonText(f)),
        el("span", { class: "check-sentence" }, `“${f.sentence}”`),
        f.detail ? el("span", { class: "muted small check-detail" }, f.detail) : null)))));
  }
  box.append(panel);
}

// Text nodes of `root` as one whitespace-collapsed string, and where each character came from.
function textIndex(root) {
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  let text = "";
  const at = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (let i = 0; i < node.data.length; i++) {
      const ch = /\s/.test(node.data[i]) ? " " : node.data[i];
      if (ch === " " && text.endsWith(" ")) continue;
      text += ch;
      at.push([node, i]);
    }
  }
  return { text, at };
}

// The sentence as the preview shows it: Markdown emphasis, code ticks and link targets gone.
function plain(sentence) {
  return sentence
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/[*_`]+/g, "")
    .replace(/\s+/g, " ")
    .trim();
}

function markRange(index, from, to, attrs) {
  const pieces = new Map(); // text node -> [start, end) inside it
  for (let k = from; k < to; k++) {
    const [node, i] = index.at[k];
    const span = pieces.get(node) || [i, i + 1];
    pieces.set(node, [Math.min(span[0], i), Math.max(span[1], i + 1)]);
  }
  const marks = [];
  for (const [node, [s, e]] of pieces) {
    const middle = node.splitText(s);
    middle.splitText(e - s);
    const mark = el("mark", attrs);
    middle.replaceWith(mark);
    mark.append(middle);
    marks.push(mark);
  }
  return marks;
}

// Wraps each flagged sentence found in the preview in <mark class="flagged">; returns
// the first mark of each (null when a sentence is not found, e.g. inside a table).
export function highlightFlagged(preview, grounding) {
  const flagged = (grounding && grounding.flagged) || [];
  return flagged.map((f, i) => {
    const needle = plain(f.sentence);
    const index = textIndex(preview);
    const from = needle ? index.text.indexOf(needle) : -1;
    if (from < 0) return null;
    const attrs = { class: `flagged flagged-${f.reason}`, title: reasonText(f), "data-flag": String(i) };
    return markRange(index, from, from + needle.length, attrs)[0] || null;
  });
}
