"""More than one web process: `serve --workers 2` and two `draftsmith worker` processes on
PostgreSQL + Redis, end to end, with their metrics summed across processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import httpx

from tests.conftest import PASSWORD, _wipe_url, run_sync
from tests.fixtures.make import fixture_path
from tests.test_config_cli import cli, closed_port

METRICS_TOKEN = "scrape-" + "t" * 30
DEADLINE_S = 120


def test_serve_with_workers_refuses_without_redis(tmp_path):
    done = cli("serve", "--workers", "2", cwd=tmp_path)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "DRAFTSMITH_REDIS_URL" in lines[0], done.stderr
    assert "shared" in lines[0]


def _start(args: list[str], env: dict[str, str], log) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "draftsmith.cli", *args],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # the web processes' parent and its children stop together
    )


def _stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def _wait_for(check, what: str, deadline: float):
    while True:
        try:
            value = check()
            if value:
                return value
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def _journey(api: httpx.Client, deadline: float) -> tuple[dict, int]:
    """Register, upload, wait ready, generate, follow the events to done, read the blog;
    also answers how many times a document was read."""
    email = "multi@example.com"
    assert api.post("/api/v1/auth/register", json={"email": email, "password": PASSWORD}).is_success
    tokens = api.post("/api/v1/auth/login", json={"email": email, "password": PASSWORD}).json()
    api.headers["Authorization"] = f"Bearer {tokens['access_token']}"
    paths = [fixture_path("tide-pools.md"), fixture_path("tide-pools-survey.pdf")]
    uploaded = api.post(
        "/api/v1/documents/upload",
        files=[("files", (path.name, path.read_bytes())) for path in paths],
    )
    assert uploaded.status_code == 202, uploaded.text
    document_ids = [document["id"] for document in uploaded.json()["documents"]]
    polls = 0

    def ready() -> bool:
        nonlocal polls
        statuses = []
        for document_id in document_ids:
            polls += 1
            statuses.append(api.get(f"/api/v1/documents/{document_id}").json()["status"])
        assert "failed" not in statuses
        return statuses == ["ready", "ready"]

    _wait_for(ready, "the documents", deadline)
    topic = {"topic": "life in tide pools", "document_ids": document_ids, "length": "short"}
    session_id = api.post("/api/v1/sessions", json=topic).json()["id"]
    blog_id = api.post(f"/api/v1/sessions/{session_id}/generate").json()["blog_id"]
    events = []
    with api.stream("GET", f"/api/v1/sessions/{session_id}/events", timeout=60) as stream:
        for line in stream.iter_lines():
            if line.startswith("event:"):
                events.append(line.split(":", 1)[1].strip())
    assert events[-1] == "done", events
    blog = api.get(f"/api/v1/blogs/{blog_id}").json()
    assert blog["status"] == "ready" and blog["markdown"].strip(), blog
    return blog, polls


def _check_json_logs(output: str) -> None:
    """Every line of every process is a JSON object; each request has its access line with
    its id, route and user, and no line has the email."""
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]
    access = [line for line in lines if line["logger"] == "draftsmith.access"]
    reads = [line for line in access if line["route"] == "/api/v1/documents/{document_id}"]
    assert reads and all(len(line["request_id"]) == 32 and line["user_id"] for line in reads)
    assert "multi@example.com" not in output


def _metric(text: str, name: str, **labels: str) -> float:
    wanted = [f'{key}="{value}"' for key, value in labels.items()]
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.split("{")[0].split(" ")[0] == name and all(label in line for label in wanted)
    )


def test_two_web_processes_and_two_workers_end_to_end(tmp_path, postgres_url, redis_url):
    port = closed_port()
    (tmp_path / "metrics").mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRAFTSMITH_")}
    env.update(
        DRAFTSMITH_DATA_DIR=str(tmp_path / "data"),
        DRAFTSMITH_DATABASE_URL=postgres_url,
        DRAFTSMITH_REDIS_URL=redis_url,
        DRAFTSMITH_SECRET_KEY="multi-process-secret-" + "k" * 30,
        DRAFTSMITH_METRICS_TOKEN=METRICS_TOKEN,
        DRAFTSMITH_LOG_LEVEL="info",
        DRAFTSMITH_LOG_FORMAT="json",
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"),
    )
    deadline = time.monotonic() + DEADLINE_S
    with open(tmp_path / "processes.log", "w") as log:
        web = _start(["serve", "--workers", "2", "--port", str(port)], env, log)
        workers = [_start(["worker"], env, log) for _ in range(2)]
        try:
            # a fresh connection per request, so both web processes answer some
            limits = httpx.Limits(max_keepalive_connections=0)
            base = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=base, timeout=30, limits=limits) as api:
                _wait_for(lambda: api.get("/readyz").status_code == 200, "the server", deadline)
                _, polls = _journey(api, deadline)
                scraped = api.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
            assert all(process.poll() is None for process in [web, *workers])
        finally:
            for process in [web, *workers]:
                _stop(process)
            run_sync(_wipe_url, postgres_url)
    output = (tmp_path / "processes.log").read_text()
    assert "Traceback" not in output, output[-5000:]
    _check_json_logs(output)
    text = scraped.text
    # the jobs ran in the worker processes, the polls were answered by either web process:
    # one scrape of one web process reports them all
    assert _metric(text, "draftsmith_jobs_started_total", kind="document") >= 1, text
    assert _metric(text, "draftsmith_jobs_started_total", kind="blog") >= 1, text
    assert _metric(text, "draftsmith_extracted_pages_total") >= 1, text
    route = "/api/v1/documents/{document_id}"
    assert _metric(text, "draftsmith_http_requests_total", route=route) == polls, text
    assert "multi@example.com" not in text
