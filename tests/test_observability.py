"""Request ids, structured logs, Prometheus metrics (one process and several), and the
HTTP answers the OpenAPI document promises (405 Allow, 415)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import pytest

from draftsmith.logs import JsonFormatter, RequestIdFilter
from tests.conftest import client_for, make_settings, make_user

METRICS_TOKEN = "scrape-" + "m" * 30


async def test_every_answer_carries_a_request_id(client):
    seen = set()
    for method, path in [
        ("GET", "/healthz"),
        ("GET", "/nope"),
        ("PUT", "/api/v1/auth/me"),
        ("GET", "/api/v1/documents?q=%00"),
        ("GET", "/api/v1/auth/me"),
        ("GET", "/login"),
    ]:
        response = await client.request(method, path)
        seen.add(response.headers["x-request-id"])
    assert len(seen) == 6
    kept = await client.get("/healthz", headers={"X-Request-ID": "lb-42.a_b"})
    assert kept.headers["x-request-id"] == "lb-42.a_b"
    for bad in ("x" * 129, "has space", "semi;colon", "é".encode()):
        response = await client.get("/healthz", headers={"X-Request-ID": bad})
        assert response.headers["x-request-id"] not in (bad, "")
        assert len(response.headers["x-request-id"]) == 32


async def test_access_log_is_structured_and_names_no_secret(client, user, caplog):
    caplog.handler.addFilter(RequestIdFilter())
    with caplog.at_level(logging.INFO, logger="draftsmith.access"):
        response = await user.get("/api/v1/documents/some-id", headers={"X-Request-ID": "trace-1"})
    assert response.status_code == 404
    record = next(r for r in caplog.records if r.name == "draftsmith.access")
    line = json.loads(JsonFormatter().format(record))
    me = (await user.get("/api/v1/auth/me")).json()
    assert line["request_id"] == "trace-1"
    assert line["route"] == "/api/v1/documents/{document_id}"
    assert line["status"] == 404 and line["method"] == "GET"
    assert line["user_id"] == me["id"] and line["duration_ms"] >= 0
    text = json.dumps(line)
    assert user.email not in text and user.tokens["access_token"] not in text


async def test_every_log_line_of_a_request_names_it(client, caplog):
    caplog.handler.addFilter(RequestIdFilter())
    with caplog.at_level(logging.INFO):
        await client.get("/healthz", headers={"X-Request-ID": "probe-7"})
    lines = [r for r in caplog.records if getattr(r, "request_id", "-") == "probe-7"]
    assert lines and all(r.request_id == "probe-7" for r in lines)


async def test_405_allows_every_method_of_the_path(client, user):
    response = await user.request("PUT", "/api/v1/blogs/some-id")
    assert response.status_code == 405
    assert response.headers["allow"] == "DELETE, GET, PATCH"
    assert response.json()["code"] == "method_not_allowed"
    upload = await user.request("PUT", "/api/v1/documents/upload")
    assert upload.headers["allow"] == "POST"


async def test_json_endpoint_refuses_another_content_type(client):
    response = await client.post(
        "/api/v1/auth/login",
        content=b'{"email": "a@b.c", "password": "x"}',
        headers={"content-type": "text/plain"},
    )
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
    form = await client.post("/api/v1/auth/token", data={"username": "a@b.c", "password": "x"})
    assert form.status_code == 401  # the OAuth2 form endpoint still takes its form


def test_openapi_documents_the_real_error_shape(app):
    schema = app.openapi()
    components = schema["components"]["schemas"]
    assert "HTTPValidationError" not in components and "ErrorOut" in components
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert operation["summary"] and operation["description"], (method, path)
            assert not operation["summary"].istitle(), (method, path)  # not "Get Blog"
            responses = operation["responses"]
            assert "400" in responses, (method, path)
            if "requestBody" in operation:
                assert {"413", "422"} <= set(responses), (method, path)


@pytest.fixture
def settings_overrides() -> dict:
    return {"metrics_token": METRICS_TOKEN}


async def test_metrics_need_the_token_and_count_by_route_template(client, user):
    await user.get("/api/v1/documents/one")
    await user.get("/api/v1/documents/two")
    assert (await client.get("/metrics")).status_code == 401
    assert (await user.get("/metrics")).status_code == 401  # a user's token is not enough
    response = await client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    line = next(
        line
        for line in response.text.splitlines()
        if line.startswith("draftsmith_http_requests_total{")
        and 'route="/api/v1/documents/{document_id}"' in line
        and 'status="404"' in line
    )
    assert float(line.rsplit(" ", 1)[1]) >= 2
    assert "draftsmith_http_request_duration_seconds_bucket" in response.text
    await client.request("BREW", "/coffee/42")  # no new series for invented methods or paths
    again = await client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert "BREW" not in again.text and "/coffee" not in again.text
    assert 'method="OTHER",route="(unmatched)"' in again.text
    assert user.email not in response.text


async def test_metrics_are_off_without_a_token(tmp_path, sqlite_url):
    from draftsmith.app import create_app

    app = create_app(make_settings(tmp_path, sqlite_url))
    async with app.router.lifespan_context(app):
        async with client_for(app) as client:
            user = await make_user(client, "metrics@example.com")
            assert (await client.get("/metrics")).status_code == 404
            assert (await user.get("/metrics")).status_code == 404


def _in_process(code: str, directory) -> str:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_multiprocess_mode_sums_the_processes(tmp_path):
    for count in (2, 3):  # two processes, e.g. two workers
        _in_process(
            f"from draftsmith import metrics; metrics.JOBS_QUEUED.labels('blog').inc({count})",
            tmp_path,
        )
    text = _in_process(
        "from draftsmith import metrics; print(metrics.exposition()[0].decode())", tmp_path
    )
    assert 'draftsmith_jobs_queued_total{kind="blog"} 5.0' in text


async def test_a_running_app_collects_garbage_in_larger_batches(tmp_path, sqlite_url):
    """While it serves, the youngest generation holds what requests in flight allocate
    (collections and their pauses far rarer); start-up's objects are frozen; both are given
    back when the app stops."""
    import gc

    from draftsmith.app import GC_YOUNG_OBJECTS, create_app

    before = gc.get_threshold()
    app = create_app(make_settings(tmp_path, sqlite_url))
    async with app.router.lifespan_context(app):
        assert gc.get_threshold() == (GC_YOUNG_OBJECTS, *before[1:]) and GC_YOUNG_OBJECTS > 700
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
