// Following a generation: the session's event stream (EventSource, same-origin cookies),
// with a blog poll as a safety net when the stream is unavailable.
(function () {
  "use strict";
  const { el } = window.ui;

  const STAGES = { queued: 3, retrieving: 10, outlining: 20, writing: 30, verifying: 92 };
  const KINDS = ["status", "outline", "section", "done", "error"];

  // follow({sessionId, blogId, onEvent(type, data), onDone(data), onError(message)}) -> {stop()}
  function follow({ sessionId, blogId, onEvent, onDone, onError }) {
    let finished = false;
    let source = null;
    let pollTimer = null;
    let pollEvery = 4000;

    function finish(kind, payload) {
      if (finished) return;
      finished = true;
      stop();
      if (kind === "done") onDone && onDone(payload);
      else onError && onError(payload);
    }

    function handle(type, data) {
      if (finished) return;
      if (data && data.blog_id && blogId && String(data.blog_id) !== String(blogId)) return; // another run
      if (onEvent) onEvent(type, data || {});
      if (type === "done") finish("done", data || {});
      else if (type === "error") finish("error", (data && (data.message || data.detail || data.error)) || "The generation failed.");
    }

    function parse(event) {
      try { return JSON.parse(event.data); } catch (_) { return { message: event.data }; }
    }

    if (window.EventSource && sessionId) {
      const only = blogId ? `?blog_id=${encodeURIComponent(blogId)}` : "";
      source = new EventSource(`/api/v1/sessions/${encodeURIComponent(sessionId)}/events${only}`);
      for (const kind of KINDS) {
        source.addEventListener(kind, (event) => {
          // "error" is also the name of EventSource's own connection-error event (no data).
          if (kind === "error" && !(event instanceof MessageEvent && event.data)) return;
          handle(kind, parse(event));
        });
      }
      source.onmessage = (event) => { // unnamed events carry their type inside
        const data = parse(event);
        const type = data.type || data.event;
        if (KINDS.includes(type)) handle(type, data.data && typeof data.data === "object" ? { ...data.data, blog_id: data.blog_id } : data);
      };
      source.addEventListener("error", (event) => {
        if (event instanceof MessageEvent && event.data) return;
        if (finished) return;
        if (source.readyState === EventSource.CLOSED) { pollEvery = 1500; schedule(0); }
      });
    } else {
      pollEvery = 1500;
    }

    // The database is the source of truth: poll the blog so a lost stream never leaves us hanging.
    function schedule(delay) {
      if (finished) return;
      window.clearTimeout(pollTimer);
      pollTimer = window.setTimeout(poll, delay === undefined ? pollEvery : delay);
    }

    async function poll() {
      if (finished || !blogId) return;
      try {
        const blog = await window.api.get(`/api/v1/blogs/${encodeURIComponent(blogId)}`);
        if (blog.status === "ready") handle("done", { blog_id: blog.id });
        else if (blog.status === "failed" || blog.status === "cancelled") handle("error", { blog_id: blog.id, message: blog.error || `The generation was ${blog.status}.` });
        else if (onEvent && blog.status) onEvent("poll", { blog_id: blog.id, status: blog.status });
      } catch (_) { /* try again on the next tick */ }
      schedule();
    }
    schedule();

    function stop() {
      finished = true;
      window.clearTimeout(pollTimer);
      if (source) source.close();
    }
    return { stop };
  }

  // Drives a progress card: {bar: <progress>, stage: <p>, outline: <ol>}.
  function progressView({ bar, stage, outline }) {
    let sections = [];
    let done = new Set();

    function setBar(value) { bar.value = Math.max(bar.value || 0, Math.min(100, value)); }

    function markSection(data) {
      const heading = (data.heading || "").trim().toLowerCase();
      const index = sections.findIndex((s) => s.heading.trim().toLowerCase() === heading);
      const item = index >= 0 ? outline.children[index] : null;
      if (item) {
        item.classList.add(data.final === false ? "writing" : "done");
        if (data.final !== false) { item.classList.remove("writing"); done.add(index); }
      }
      const total = Math.max(sections.length, 1);
      setBar(STAGES.writing + 60 * Math.min(done.size, total) / total);
    }

    function update(type, data) {
      if (type === "status") {
        if (data.stage in STAGES) setBar(STAGES[data.stage]);
        stage.textContent = data.message || data.stage || "Working…";
      } else if (type === "poll") {
        if (data.status === "generating") setBar(STAGES.retrieving);
      } else if (type === "outline") {
        sections = (data.sections || []).map((s) => ({ heading: s.heading || "" }));
        done = new Set();
        outline.replaceChildren(...sections.map((s) => el("li", {}, s.heading)));
        setBar(STAGES.outlining + 5);
      } else if (type === "section") {
        markSection(data);
        if (data.heading) stage.textContent = `Writing “${data.heading}”`;
      } else if (type === "done") {
        setBar(100);
        stage.textContent = "Done — opening the editor…";
        for (const item of outline.children) item.classList.add("done");
      }
    }

    function reset() {
      bar.value = STAGES.queued;
      stage.textContent = "Queued…";
      outline.replaceChildren();
      sections = [];
      done = new Set();
    }
    return { update, reset };
  }

  window.generation = { follow, progressView };
})();
