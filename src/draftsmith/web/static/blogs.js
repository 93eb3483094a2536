// Blogs: the list of drafts, with delete.
(function () {
  "use strict";
  const { el, badge, items, timeEl, toast, confirmDialog, errorMessage } = window.ui;
  const $ = (id) => document.getElementById(id);
  const state = { cursor: null, count: 0 };

  const topics = new Map(); // session id -> topic

  async function loadTopics() {
    try {
      const data = await window.api.get("/api/v1/sessions?limit=200");
      for (const s of items(data)) topics.set(s.id, s.topic);
    } catch (_) { /* the cards simply show no topic */ }
  }

  function card(blog) {
    const title = blog.title || "Untitled draft";
    const href = `/dashboard/blogs/${encodeURIComponent(blog.id)}`;
    const del = el("button", { type: "button", class: "btn btn-ghost btn-sm btn-danger-ghost", "aria-label": `Delete ${title}` }, "Delete");
    const li = el("li", { class: "card blog-card", dataset: { id: blog.id } },
      el("div", { class: "blog-card-head" }, badge(blog.status), el("span", { class: "muted small" }, "Updated ", timeEl(blog.updated_at || blog.created_at))),
      el("h2", { class: "blog-card-title" }, el("a", { href }, title)),
      blog.status === "failed"
        ? el("p", { class: "blog-card-excerpt text-danger" }, blog.error || "The generation failed.")
        : topics.get(blog.session_id) && topics.get(blog.session_id).trim().toLowerCase() !== title.trim().toLowerCase() ? el("p", { class: "muted blog-card-excerpt" }, el("span", { class: "blog-card-label" }, "Topic "), topics.get(blog.session_id)) : null,
      el("div", { class: "blog-card-foot" },
        el("span", { class: "muted small" }, [blog.engine, blog.revision ? `revision ${blog.revision}` : ""].filter(Boolean).join(" · ")),
        del));
    del.addEventListener("click", async () => {
      const ok = await confirmDialog({ title: `Delete “${title}”?`, body: "The draft and its revision history will be removed. This can't be undone.", confirm: "Delete", danger: true });
      if (!ok) return;
      try {
        await window.api.del(`/api/v1/blogs/${encodeURIComponent(blog.id)}`);
        li.remove();
        state.count -= 1;
        $("blog-empty").hidden = state.count > 0;
        toast(`Deleted ${title}`);
      } catch (error) {
        toast(`Couldn't delete: ${errorMessage(error)}`, "error");
      }
    });
    return li;
  }

  async function load(append) {
    const list = $("blog-list");
    const params = new URLSearchParams({ limit: "30" });
    if (append && state.cursor) params.set("cursor", state.cursor);
    try {
      const data = await window.api.get(`/api/v1/blogs?${params}`);
      const rows = items(data);
      if (!append) list.replaceChildren();
      list.append(...rows.map(card));
      state.count += rows.length;
      state.cursor = (data && data.next_cursor) || null;
      $("blog-empty").hidden = state.count > 0;
    } catch (error) {
      $("blog-error").textContent = `Couldn't load your drafts: ${errorMessage(error)}`;
      $("blog-error").hidden = false;
    }
    list.removeAttribute("aria-busy");
    $("load-more").hidden = !state.cursor;
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("load-more").addEventListener("click", () => load(true));
    loadTopics().then(() => load(false));
  });
})();
