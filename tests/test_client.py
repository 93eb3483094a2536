"""DraftsmithClient against a real server: bearer always, transparent refresh."""

from __future__ import annotations

import time

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
        assert {d["id"] for d in client.documents(limit=1)} == {d["id"] for d in documents}  # follows cursors
        assert client.download(documents[0]["id"]) == paths[0].read_bytes()
        assert "markdown" in client.document_content(documents[0]["id"])

        session = client.create_session("tide pool animals on rocky shores", [d["id"] for d in documents], length="short")
        blog_id = client.generate(session["id"])
        events = list(client.events(session["id"]))  # the access token expires meanwhile: refreshed
        assert events[-1].type == "done" and all(e.data["blog_id"] == blog_id for e in events)
        assert [e.id for e in client.events(session["id"], last_event_id=events[-2].id)] == [events[-1].id]

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
        client.delete_blog(blog_id)
        client.delete_session(session["id"])
        client.delete_document(documents[0]["id"])
        assert len(list(client.documents())) == 1
