// Dashboard: recent documents, sessions and drafts, loaded through the API.
import { api, path } from "./api.js";
import { badge, byId as $, el, errorMessage, fileIcon, timeEl } from "./ui.js";

// Fills a list with the rows of a settled request, its empty state, or why it failed.
function fill(list, what, result, toRow, empty) {
  if (result.status === "rejected") {
    list.replaceChildren(el("li", { class: "mini-empty text-danger" }, `Couldn't load ${what}: ${errorMessage(result.reason)}`));
  } else {
    const rows = result.value.items.slice(0, 5).map(toRow);
    list.replaceChildren(...(rows.length ? rows : [el("li", { class: "mini-empty" }, ...empty)]));
  }
  list.removeAttribute("aria-busy");
}

const [docs, sessions, blogs] = await Promise.allSettled([
  api.get("/api/v1/documents?limit=5"),
  api.get("/api/v1/sessions"),
  api.get("/api/v1/blogs"),
]);

fill($("dash-documents"), "documents", docs, (d) => el("li", { class: "mini-item" },
  el("span", { class: "mini-main" },
    fileIcon(d.filename, { tinted: false }),
    el("span", { class: "mini-title", title: d.filename }, d.filename)),
  el("span", { class: "mini-meta" }, badge(d.status))),
["No documents yet — ", el("a", { href: "/dashboard/documents" }, "upload some"), "."]);

// A session links to its latest draft, or back to the generate form when it has none.
const latestBlogBySession = new Map();
for (const blog of blogs.status === "fulfilled" ? blogs.value.items : []) {
  const known = latestBlogBySession.get(blog.session_id);
  if (!known || blog.created_at > known.created_at) latestBlogBySession.set(blog.session_id, blog);
}

fill($("dash-sessions"), "sessions", sessions, (s) => {
  const blog = latestBlogBySession.get(s.id);
  const href = blog ? path`/dashboard/blogs/${blog.id}` : path`/dashboard/generate?session=${s.id}`;
  const count = s.document_ids.length;
  return el("li", { class: "mini-item" },
    el("span", { class: "mini-main mini-stack" },
      el("a", { href, class: "mini-title" }, s.title || s.topic),
      el("span", { class: "muted small" }, `${count} document${count === 1 ? "" : "s"} · `, timeEl(s.created_at))));
}, ["No sessions yet — ", el("a", { href: "/dashboard/generate" }, "start one"), "."]);

fill($("dash-blogs"), "drafts", blogs, (b) => el("li", { class: "mini-item" },
  el("span", { class: "mini-main mini-stack" },
    el("a", { href: path`/dashboard/blogs/${b.id}`, class: "mini-title" }, b.title || "Untitled draft"),
    el("span", { class: "muted small" }, "Updated ", timeEl(b.updated_at))),
  el("span", { class: "mini-meta" }, badge(b.status))),
["No drafts yet — ", el("a", { href: "/dashboard/generate" }, "generate one"), "."]);
