// Blogs: the list of drafts, with delete.
import { api, path } from "./api.js";
import { badge, byId as $, confirmDelete, el, errorMessage, showMessage, timeEl } from "./ui.js";

const state = { cursor: null, count: 0 };
const topics = new Map(); // session id -> topic

async function loadTopics() {
  try {
    for (const s of (await api.get("/api/v1/sessions?limit=200")).items) topics.set(s.id, s.topic);
  } catch (_) { /* the cards simply show no topic */ }
}

// The session's topic, when it says more than the title does.
function topicLine(blog, title) {
  const topic = topics.get(blog.session_id);
  if (!topic || topic.trim().toLowerCase() === title.trim().toLowerCase()) return null;
  return el("p", { class: "muted blog-card-excerpt" }, el("span", { class: "blog-card-label" }, "Topic "), topic);
}

function card(blog) {
  const title = blog.title || "Untitled draft";
  const del = el("button", { type: "button", class: "btn btn-ghost btn-sm btn-danger-ghost", "aria-label": `Delete ${title}` }, "Delete");
  const li = el("li", { class: "card blog-card", dataset: { id: blog.id } },
    el("div", { class: "blog-card-head" }, badge(blog.status), el("span", { class: "muted small" }, "Updated ", timeEl(blog.updated_at))),
    el("h2", { class: "blog-card-title" }, el("a", { href: path`/dashboard/blogs/${blog.id}` }, title)),
    blog.status === "failed"
      ? el("p", { class: "blog-card-excerpt text-danger" }, blog.error || "The generation failed.")
      : topicLine(blog, title),
    el("div", { class: "blog-card-foot" },
      el("span", { class: "muted small" }, [blog.engine, blog.revision ? `revision ${blog.revision}` : ""].filter(Boolean).join(" · ")),
      del));
  del.addEventListener("click", async () => {
    const deleted = await confirmDelete({
      name: title,
      body: "The draft and its revision history will be removed. This can't be undone.",
      url: path`/api/v1/blogs/${blog.id}`,
    });
    if (!deleted) return;
    li.remove();
    state.count -= 1;
    $("blog-empty").hidden = state.count > 0;
  });
  return li;
}

async function load(append) {
  const list = $("blog-list");
  const params = new URLSearchParams({ limit: "30" });
  if (append && state.cursor) params.set("cursor", state.cursor);
  try {
    const data = await api.get(`/api/v1/blogs?${params}`);
    if (!append) list.replaceChildren();
    list.append(...data.items.map(card));
    state.count += data.items.length;
    state.cursor = data.next_cursor;
    $("blog-empty").hidden = state.count > 0;
  } catch (error) {
    showMessage($("blog-error"), `Couldn't load your drafts: ${errorMessage(error)}`);
  }
  list.removeAttribute("aria-busy");
  $("load-more").hidden = !state.cursor;
}

$("load-more").addEventListener("click", () => load(true));
await loadTopics();
await load(false);
