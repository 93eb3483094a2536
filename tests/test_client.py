"""DraftsmithClient against a real server: bearer always, transparent refresh."""

from __future__ import annotations

import time

import httpx
import pytest

from draftsmith.client import DraftsmithClient, DraftsmithError
from tests.conftest import PASSWORD


@pytest.fixture
def settings_overrides():
    return {"access_token_ttl_s": 1}


def test_client_signs_in_and_refreshes_transparently(live_server):
    with DraftsmithClient(live_server.url) as client:
        user = client.register("client@example.com", PASSWORD, "Client")
        assert user.display_name == "Client"
        client.login("client@example.com", PASSWORD)
        assert client.me().email == "client@example.com"
        first_access, first_refresh = client.access_token, client.refresh_token
        time.sleep(2.1)  # the access token expires
        assert client.me().id == user.id
        assert client.access_token != first_access and client.refresh_token != first_refresh
        client.logout()
        with pytest.raises(DraftsmithError) as exc:
            client.me()
        assert exc.value.status == 401


def test_client_reports_errors(live_server):
    with DraftsmithClient(live_server.url) as client:
        with pytest.raises(DraftsmithError) as exc:
            client.login("nobody@example.com", PASSWORD)
        assert exc.value.status == 401 and exc.value.code == "invalid_credentials"
        with pytest.raises(DraftsmithError) as exc:
            client.register("weak@example.com", "password1234")
        assert exc.value.code == "weak_password"


def test_client_covers_documents_sessions_blogs_and_events(live_server):
    from tests.fixtures.make import fixture_path

    with DraftsmithClient(live_server.url) as client:
        client.register("writer@example.com", PASSWORD)
        client.login("writer@example.com", PASSWORD)
        paths = [fixture_path("tide-pools.md"), fixture_path("lighthouses.md")]
        documents = client.upload(*paths)
        assert [d["filename"] for d in documents] == [p.name for p in paths]
        ready = [client.wait_until_processed(d["id"], timeout=60) for d in documents]
        assert all(d["status"] == "ready" for d in ready)
        assert {d["id"] for d in client.documents(limit=1)} == {
            d["id"] for d in documents
        }  # follows cursors
        assert client.download(documents[0]["id"]) == paths[0].read_bytes()
        assert "markdown" in client.document_content(documents[0]["id"])

        assert client.coverage("tide pool animals", [d["id"] for d in documents])["covered"]
        session = client.create_session(
            "tide pool animals on rocky shores", [d["id"] for d in documents], length="short"
        )
        blog_id = client.generate(session["id"])
        events = list(client.events(session["id"]))  # the access token expires meanwhile: refreshed
        assert events[-1].type == "done" and all(e.data["blog_id"] == blog_id for e in events)
        assert [e.id for e in client.events(session["id"], last_event_id=events[-2].id)] == [
            events[-1].id
        ]

        blog = client.blog(blog_id)
        assert blog["status"] == "ready" and blog["citations"]
        edited = client.edit_blog(blog_id, blog["revision"], title="Edited from Python")
        assert edited["revision"] == 2
        with pytest.raises(DraftsmithError) as conflict:
            client.edit_blog(blog_id, 1, title="stale")
        assert conflict.value.status == 409 and conflict.value.code == "revision_conflict"
        assert [r["revision"] for r in client.revisions(blog_id)] == [2, 1]
        assert client.export(blog_id, "md").startswith(b"# Edited from Python")
        assert [b["id"] for b in client.blogs()] == [blog_id]
        assert [b["id"] for b in client.blogs(q="edited from python", sort="title")] == [blog_id]
        assert list(client.blogs(q="not in any draft")) == []
        client.delete_blog(blog_id)
        client.delete_session(session["id"])
        client.delete_document(documents[0]["id"])
        assert len(list(client.documents())) == 1


class _Dropping(httpx.SyncByteStream):
    """An event stream that sends ``frames`` and then loses the connection."""

    def __init__(self, frames: list[str], drop: bool) -> None:
        self.frames, self.drop = frames, drop

    def __iter__(self):
        for frame in self.frames:
            yield frame.encode()
        if self.drop:
            raise httpx.ReadError("connection lost")


def _event_client(handler) -> DraftsmithClient:
    return DraftsmithClient("http://draftsmith.test", transport=httpx.MockTransport(handler))


def test_events_resume_from_the_last_event_after_a_dropped_connection(monkeypatch):
    pauses, resumed_from = [], []
    monkeypatch.setattr("draftsmith.client.time.sleep", pauses.append)
    replies = iter([
        (["retry: 250\n\n", ": keep-alive\n\n", 'id: 1\nevent: status\ndata: {"n": 1}\n\n'], True),
        ([], True),  # dropped again before any event
        (['id: 2\nevent: done\ndata: {"n": 2}\n\n'], False),
    ])  # fmt: skip

    def handler(request: httpx.Request) -> httpx.Response:
        resumed_from.append(request.headers.get("Last-Event-ID"))
        frames, drop = next(replies)
        headers = {"Content-Type": "text/event-stream"}
        return httpx.Response(200, headers=headers, stream=_Dropping(frames, drop))

    with _event_client(handler) as client:
        events = list(client.events("s1"))
    assert [(e.id, e.type, e.data) for e in events] == [
        (1, "status", {"n": 1}),
        (2, "done", {"n": 2}),
    ]
    assert resumed_from == [None, "1", "1"]
    assert pauses == [0.25, 0.5]  # the server's retry hint, then doubled


def test_events_give_up_after_max_reconnects(monkeypatch):
    pauses, attempts = [], []
    monkeypatch.setattr("draftsmith.client.time.sleep", pauses.append)

    def handler(request: httpx.Request) -> httpx.Response:
        attempts.append(request.headers.get("Last-Event-ID"))
        raise httpx.ConnectError("refused")

    with _event_client(handler) as client, pytest.raises(httpx.ConnectError):
        list(client.events("s1", last_event_id=7, max_reconnects=3))
    assert attempts == ["7"] * 4
    assert pauses == [1.0, 2.0, 4.0]


def test_events_do_not_retry_an_error_answer(monkeypatch):
    monkeypatch.setattr("draftsmith.client.time.sleep", pytest.fail)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"code": "not_found", "detail": "No such session."})

    with _event_client(handler) as client, pytest.raises(DraftsmithError) as exc:
        list(client.events("missing"))
    assert exc.value.status == 404 and exc.value.code == "not_found"
