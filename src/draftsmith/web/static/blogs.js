// Blogs: the list of drafts (excerpt, word count, brief and sources), with search, sort and delete.
import { api, path } from "./api.js";
import { briefLine } from "./brieftext.js";
import { badge, byId as $, confirmDelete, el, errorMessage, fileIcon, showMessage, timeEl } from "./ui.js";

const SEARCH_DELAY_MS = 300;
const SORTS = new Set(["newest", "updated", "oldest", "title"]);
const MAX_SOURCES = 3;
const state = { cursor: null, count: 0, asked: 0, timer: null };

const query = () => ({ q: $("blog-q").value.trim(), sort: $("blog-sort").value });

function label(text) {
  return el("span", { class: "blog-card-label" }, text);
}

// What the draft was asked to be: its topic (when the title does not say it) and settings.
function briefPara(blog, title) {
  const b = blog.brief;
  if (!b) return null;
  const topic = b.topic.trim().toLowerCase() === title.trim().toLowerCase() ? "" : b.topic;
  return el("p", { class: "blog-card-brief small", title: b.instructions ? `Instructions: ${b.instructions}` : null },
    label("Brief"), topic ? el("span", { class: "blog-card-topic" }, `${topic} — `) : null,
    el("span", { class: "muted" }, briefLine(b)));
}

function sourcesPara(blog) {
  const docs = blog.documents || [];
  if (!docs.length) return null;
  const shown = docs.slice(0, MAX_SOURCES).map((d) => el("li", { class: "source-chip", title: d.filename || "deleted document" },
    fileIcon(d.filename || "file", { tinted: false }), el("span", {}, d.filename || "deleted document")));
  const more = docs.length > MAX_SOURCES ? el("li", { class: "muted small" }, `+${docs.length - MAX_SOURCES} more`) : null;
  return el("div", { class: "blog-card-sources small" }, label("Sources"), el("ul", { class: "source-chips" }, shown, more));
}

function card(blog) {
  const title = blog.title || "Untitled draft";
  const del = el("button", { type: "button", class: "btn btn-ghost btn-sm btn-danger-ghost", "aria-label": `Delete ${title}` }, "Delete");
  const facts = [
    blog.status === "ready" ? `${blog.word_count.toLocaleString()} words` : "",
    blog.revision ? `revision ${blog.revision}` : "",
  ].filter(Boolean).join(" · ");
  const li = el("li", { class: "card blog-card", dataset: { id: blog.id } },
    el("div", { class: "blog-card-head" }, badge(blog.status), el("span", { class: "muted small" }, "Updated ", timeEl(blog.updated_at))),
    el("h2", { class: "blog-card-title" }, el("a", { href: path`/dashboard/blogs/${blog.id}` }, title)),
    blog.status === "failed"
      ? el("p", { class: "blog-card-excerpt text-danger" }, blog.error || "The generation failed.")
      : (blog.excerpt ? el("p", { class: "blog-card-excerpt muted" }, blog.excerpt) : null),
    briefPara(blog, title),
    sourcesPara(blog),
    el("div", { class: "blog-card-foot" }, el("span", { class: "muted small blog-card-facts" }, facts), del));
  del.addEventListener("click", async () => {
    const deleted = await confirmDelete({
      name: title,
      body: "The draft and its revision history will be removed. This can't be undone.",
      url: path`/api/v1/blogs/${blog.id}`,
    });
    if (!deleted) return;
    li.remove();
    state.count -= 1;
    showEmpty();
  });
  return li;
}

function showEmpty() {
  const searching = Boolean(query().q);
  $("blog-empty").hidden = state.count > 0 || searching;
  $("blog-nomatch").hidden = state.count > 0 || !searching;
  $("blog-count").textContent = state.count ? `(${state.count}${state.cursor ? "+" : ""})` : "";
}

async function load(append) {
  const list = $("blog-list");
  const { q, sort } = query();
  const params = new URLSearchParams({ limit: "30", sort });
  if (q) params.set("q", q);
  if (append && state.cursor) params.set("cursor", state.cursor);
  const asked = ++state.asked;
  list.setAttribute("aria-busy", "true");
  try {
    const data = await api.get(`/api/v1/blogs?${params}`);
    if (asked !== state.asked) return; // a newer search is on its way
    showMessage($("blog-error"), "");
    if (!append) { list.replaceChildren(); state.count = 0; }
    list.append(...data.items.map(card));
    state.count += data.items.length;
    state.cursor = data.next_cursor;
    if (!append && q) $("blog-announcer").textContent = `${state.count}${state.cursor ? "+" : ""} draft${state.count === 1 ? "" : "s"} match “${q}”.`;
    showEmpty();
  } catch (error) {
    if (asked !== state.asked) return;
    showMessage($("blog-error"), `Couldn't load your drafts: ${errorMessage(error)}`);
  }
  list.removeAttribute("aria-busy");
  $("load-more").hidden = !state.cursor;
}

// The search and sort live in the address, so a reload or Back keeps them.
function remember() {
  const { q, sort } = query();
  const params = new URLSearchParams();
  if (q) params.set("q", q);
  if (sort !== "newest") params.set("sort", sort);
  const search = params.toString();
  window.history.replaceState(null, "", `${window.location.pathname}${search ? `?${search}` : ""}`);
}

function reload() {
  window.clearTimeout(state.timer);
  state.cursor = null;
  remember();
  load(false);
}

const initial = new URLSearchParams(window.location.search);
$("blog-q").value = initial.get("q") || "";
if (SORTS.has(initial.get("sort"))) $("blog-sort").value = initial.get("sort");
$("blog-q").addEventListener("input", () => {
  window.clearTimeout(state.timer);
  state.timer = window.setTimeout(reload, SEARCH_DELAY_MS);
});
$("blog-sort").addEventListener("change", reload);
$("blog-search").addEventListener("submit", (e) => { e.preventDefault(); reload(); });
$("load-more").addEventListener("click", () => load(true));
await load(false);
