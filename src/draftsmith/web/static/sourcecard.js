// The editor's source card: a citation's document, page and section, the whole quoted
// span, and a link to the document viewer with that span marked.
import { path } from "./api.js";
import { el } from "./ui.js";

// "p. iv · Installation › Linux" (the page label, else the page number, then the section).
export function citationLocation(c) {
  const page = c.page_label || (c.page ? String(c.page) : "");
  return [page ? `p. ${page}` : "", c.section || ""].filter(Boolean).join(" · ");
}

// The viewer URL: /dashboard/documents/{id}?start=…&end=… (offsets into the extracted text).
export function viewerUrl(c) {
  const url = path`/dashboard/documents/${c.document_id}`;
  return Number.isInteger(c.start) && Number.isInteger(c.end) ? `${url}?start=${c.start}&end=${c.end}` : url;
}

export function sourceCard(c) {
  const location = citationLocation(c);
  return el("li", { class: "citation", id: `citation-${c.n}`, tabindex: "-1" },
    el("div", { class: "citation-head" },
      el("span", { class: "cite-n" }, `[${c.n}]`),
      el("span", { class: "citation-doc", title: c.document_name }, c.document_name)),
    location ? el("p", { class: "muted small citation-where" }, location) : null,
    c.quote ? el("blockquote", { class: "citation-quote" }, c.quote) : null,
    el("a", { class: "citation-open", href: viewerUrl(c), target: "_blank", rel: "noopener",
      "aria-label": `Open [${c.n}] in ${c.document_name}, with the quote marked` }, "Open in document ↗"));
}
