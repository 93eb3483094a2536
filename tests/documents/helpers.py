from __future__ import annotations

import asyncio
import time
from pathlib import Path

from tests.conftest import ApiUser
from tests.fixtures.make import fixture_path as fixture  # noqa: F401  (the tests' documents)


async def upload(user: ApiUser, *paths_or_pairs, expect: int = 202):
    files = []
    for item in paths_or_pairs:
        if isinstance(item, Path):
            files.append(("files", (item.name, item.read_bytes(), "application/octet-stream")))
        else:
            name, data = item
            files.append(("files", (name, data, "application/octet-stream")))
    response = await user.post("/api/v1/documents/upload", files=files)
    assert response.status_code == expect, response.text
    return response.json()


async def wait_done(user: ApiUser, document_id: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        document = (await user.get(f"/api/v1/documents/{document_id}")).json()
        if document["status"] in ("ready", "failed"):
            return document
        if time.monotonic() > deadline:
            raise AssertionError(f"document still {document['status']} after {timeout}s")
        await asyncio.sleep(0.1)
