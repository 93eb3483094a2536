from __future__ import annotations

import json
import time

from tests.conftest import ApiUser
from tests.documents.helpers import upload, wait_done


def parse_sse(text: str) -> list[dict]:
    events = []
    for block in text.split("\n\n"):
        fields = {}
        for line in block.splitlines():
            if line.startswith(":") or ":" not in line:
                continue
            key, _, value = line.partition(":")
            fields[key] = value.lstrip(" ")
        if "event" in fields:
            events.append(
                {
                    "id": int(fields["id"]),
                    "type": fields["event"],
                    "data": json.loads(fields["data"]),
                }
            )
    return events


async def read_events(
    user: ApiUser, session_id: str, last_event_id: int | None = None, timeout: float = 120
) -> list[dict]:
    """Read the session's event stream until the server ends it (no generation running)."""
    headers = {**user.headers}
    if last_event_id is not None:
        headers["Last-Event-ID"] = str(last_event_id)
    started = time.monotonic()
    async with user.client.stream(
        "GET", f"/api/v1/sessions/{session_id}/events", headers=headers, timeout=timeout
    ) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        body = ""
        async for chunk in response.aiter_text():
            body += chunk
            assert time.monotonic() - started < timeout
    return parse_sse(body)


async def ready_documents(user: ApiUser, *paths) -> list[str]:
    body = await upload(user, *paths)
    ids = [d["id"] for d in body["documents"]]
    for doc_id in ids:
        assert (await wait_done(user, doc_id))["status"] == "ready"
    return ids


async def new_session(user: ApiUser, document_ids: list[str], **fields) -> dict:
    payload = {  # the default topic: what tide-pools.md and lighthouses.md cover
        "topic": "tide pool animals and lighthouse keepers",
        "document_ids": document_ids,
        **fields,
    }
    response = await user.post("/api/v1/sessions", json=payload)
    assert response.status_code == 201, response.text
    return response.json()


async def generate(user: ApiUser, session_id: str) -> str:
    response = await user.post(f"/api/v1/sessions/{session_id}/generate")
    assert response.status_code == 202, response.text
    assert response.json()["status"] == "queued"
    return response.json()["blog_id"]
