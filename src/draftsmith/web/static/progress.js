// Following a generation: the session's event stream (EventSource, same-origin cookies),
// with a blog poll as a safety net when the stream is unavailable, shown on the
// progress card of templates/_progress.html (generate page and editor).
import { api, path } from "./api.js";
import { byId, el, errorMessage, toast } from "./ui.js";

const STAGES = { queued: 3, retrieving: 10, outlining: 20, writing: 30, verifying: 92 };
const KINDS = ["status", "outline", "section", "done", "error"];

// The server sends named events, each {blog_id, ...}; the stream only carries blogId's events.
// onError(message, cancelled) ends a run that failed or was cancelled. Unless `planning`, the
// end of an earlier planning run of the blog (done, outline_ready) is not this run's end.
function follow({ sessionId, blogId, planning, onEvent, onDone, onError }) {
  let finished = false;
  let source = null;
  let pollTimer = null;
  let pollEvery = 4000;

  function handle(type, data) {
    if (finished) return;
    if (type === "done" && data.status === "outline_ready" && !planning) return;
    onEvent(type, data);
    if (type === "done" || type === "error") {
      stop();
      if (type === "done") onDone(data);
      else onError(data.detail || "The generation failed.", data.status === "cancelled");
    }
  }

  if (sessionId) {
    source = new EventSource(path`/api/v1/sessions/${sessionId}/events` + `?blog_id=${encodeURIComponent(blogId)}`);
    for (const kind of KINDS) {
      source.addEventListener(kind, (event) => {
        if (event.data) handle(kind, JSON.parse(event.data));
        // "error" is also the name of EventSource's own connection-error event (no data).
        else if (source.readyState === EventSource.CLOSED) { pollEvery = 1500; schedule(0); }
      });
    }
  } else {
    pollEvery = 1500;
  }

  // The database is the source of truth: poll the blog so a lost stream never leaves us hanging.
  function schedule(delay = pollEvery) {
    if (finished) return;
    window.clearTimeout(pollTimer);
    pollTimer = window.setTimeout(poll, delay);
  }

  async function poll() {
    if (finished) return;
    try {
      const blog = await api.get(path`/api/v1/blogs/${blogId}`);
      if (blog.status === "ready" || blog.status === "outline_ready") handle("done", { blog_id: blog.id, status: blog.status });
      else if (blog.status === "failed" || blog.status === "cancelled") {
        handle("error", { blog_id: blog.id, status: blog.status, detail: blog.error || `The generation was ${blog.status}.` });
      } else onEvent("poll", { blog_id: blog.id, status: blog.status });
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

// Drives the progress card: its bar, stage line and outline.
function progressView() {
  const bar = byId("progress-bar");
  const stage = byId("progress-stage");
  const outline = byId("progress-outline");
  let sections = [];
  let done = new Set();

  function setBar(value) { bar.value = Math.max(bar.value || 0, Math.min(100, value)); }

  function markSection(data) {
    const heading = (data.heading || "").trim().toLowerCase();
    const index = sections.findIndex((s) => s.trim().toLowerCase() === heading);
    const item = index >= 0 ? outline.children[index] : null;
    if (item) {
      item.classList.add(data.final ? "done" : "writing");
      if (data.final) { item.classList.remove("writing"); done.add(index); }
    }
    const total = Math.max(sections.length, 1);
    setBar(STAGES.writing + 60 * Math.min(done.size, total) / total);
  }

  function update(type, data) {
    if (type === "status") {
      if (data.stage in STAGES) setBar(STAGES[data.stage]);
      stage.textContent = data.message;
    } else if (type === "poll") {
      if (data.status === "generating") setBar(STAGES.retrieving);
    } else if (type === "outline") {
      sections = data.sections.map((s) => s.heading);
      done = new Set();
      outline.replaceChildren(...sections.map((heading) => el("li", {}, heading)));
      setBar(STAGES.outlining + 5);
    } else if (type === "section") {
      markSection(data);
      if (data.heading) stage.textContent = `Writing “${data.heading}”`;
    } else if (type === "done") {
      setBar(100);
      stage.textContent = data.status === "outline_ready" ? "Outline ready" : "Done — opening the editor…";
      for (const item of outline.children) item.classList.add("done");
    }
  }

  bar.value = STAGES.queued;
  stage.textContent = "Queued…";
  outline.replaceChildren();
  return update;
}

// Shows a generation's progress from the start and follows it to its end; the card's
// Cancel button asks the server to stop it. Returns {stop()}.
export function trackGeneration({ sessionId, blogId, planning = false, onDone, onError }) {
  const cancel = byId("cancel-generation");
  cancel.disabled = false;
  cancel.onclick = async () => {
    cancel.disabled = true;
    try {
      await api.post(path`/api/v1/blogs/${blogId}/cancel`);
      byId("progress-stage").textContent = "Cancelling…";
    } catch (error) {
      cancel.disabled = false;
      toast(`Couldn't cancel: ${errorMessage(error)}`, "error");
    }
  };
  return follow({ sessionId, blogId, planning, onEvent: progressView(), onDone, onError });
}
