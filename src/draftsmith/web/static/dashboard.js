// Dashboard: recent documents, sessions and drafts, loaded through the API.
(function () {
  "use strict";
  const { el, badge, items, timeEl, errorMessage, fileKind } = window.ui;

  function fill(list, rows, empty) {
    list.replaceChildren(...(rows.length ? rows : [el("li", { class: "mini-empty" }, ...empty)]));
    list.removeAttribute("aria-busy");
  }

  function failed(list, what, error) {
    list.replaceChildren(el("li", { class: "mini-empty text-danger" }, `Couldn't load ${what}: ${errorMessage(error)}`));
    list.removeAttribute("aria-busy");
  }

  async function load() {
    const docsList = document.getElementById("dash-documents");
    const sessionsList = document.getElementById("dash-sessions");
    const blogsList = document.getElementById("dash-blogs");

    const [docs, sessions, blogs] = await Promise.allSettled([
      window.api.get("/api/v1/documents?limit=5"),
      window.api.get("/api/v1/sessions"),
      window.api.get("/api/v1/blogs"),
    ]);

    if (docs.status === "fulfilled") {
      fill(docsList, items(docs.value).slice(0, 5).map((d) => el("li", { class: "mini-item" },
        el("span", { class: "mini-main" },
          el("span", { class: "file-icon", "aria-hidden": "true" }, fileKind(d.filename)),
          el("span", { class: "mini-title", title: d.filename }, d.filename)),
        el("span", { class: "mini-meta" }, badge(d.status)))),
      ["No documents yet — ", el("a", { href: "/dashboard/documents" }, "upload some"), "."]);
    } else failed(docsList, "documents", docs.reason);

    const blogRows = blogs.status === "fulfilled" ? items(blogs.value) : [];
    const latestBlogBySession = new Map();
    for (const blog of blogRows) {
      const known = latestBlogBySession.get(blog.session_id);
      if (!known || String(blog.created_at) > String(known.created_at)) latestBlogBySession.set(blog.session_id, blog);
    }

    if (sessions.status === "fulfilled") {
      fill(sessionsList, items(sessions.value).slice(0, 5).map((s) => {
        const blog = latestBlogBySession.get(s.id);
        const href = blog ? `/dashboard/blogs/${encodeURIComponent(blog.id)}` : `/dashboard/generate?session=${encodeURIComponent(s.id)}`;
        const count = (s.document_ids || []).length;
        return el("li", { class: "mini-item" },
          el("span", { class: "mini-main mini-stack" },
            el("a", { href, class: "mini-title" }, s.title || s.topic || "Untitled session"),
            el("span", { class: "muted small" }, `${count} document${count === 1 ? "" : "s"} · `, timeEl(s.created_at))));
      }), ["No sessions yet — ", el("a", { href: "/dashboard/generate" }, "start one"), "."]);
    } else failed(sessionsList, "sessions", sessions.reason);

    if (blogs.status === "fulfilled") {
      fill(blogsList, blogRows.slice(0, 5).map((b) => el("li", { class: "mini-item" },
        el("span", { class: "mini-main mini-stack" },
          el("a", { href: `/dashboard/blogs/${encodeURIComponent(b.id)}`, class: "mini-title" }, b.title || "Untitled draft"),
          el("span", { class: "muted small" }, "Updated ", timeEl(b.updated_at || b.created_at))),
        el("span", { class: "mini-meta" }, badge(b.status)))),
      ["No drafts yet — ", el("a", { href: "/dashboard/generate" }, "generate one"), "."]);
    } else failed(blogsList, "drafts", blogs.reason);
  }

  document.addEventListener("DOMContentLoaded", load);
})();
