"""DraftsmithClient: the Python client of the API.

It always sends the bearer access token, and on a 401 refreshes once and
retries, so callers never handle token expiry themselves.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from httpx_sse import connect_sse

#: Consecutive reconnects of an event stream before giving up.
MAX_RECONNECTS = 5
#: First pause before a reconnect (until the server sends its ``retry`` hint); doubles each time.
RECONNECT_DELAY_S = 1.0
MAX_RECONNECT_DELAY_S = 30.0


class DraftsmithError(Exception):
    def __init__(self, status: int, code: str | None, detail: Any) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class User:
    id: str
    email: str
    display_name: str | None
    created_at: datetime


class DraftsmithClient:
    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"), timeout=timeout, transport=transport
        )
        self.access_token: str | None = None
        self.refresh_token: str | None = None

    # -- plumbing ---------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> DraftsmithClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def _raise_for(response: httpx.Response) -> None:
        if response.is_success:
            return
        try:
            body = response.json()
        except ValueError:
            body = {"detail": response.text}
        raise DraftsmithError(response.status_code, body.get("code"), body.get("detail"))

    def _store(self, response: httpx.Response) -> None:
        self._raise_for(response)
        data = response.json()
        self.access_token = data["access_token"]
        self.refresh_token = data["refresh_token"]

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Send an authenticated request; refresh once on a 401 and retry."""
        response = self._send(method, path, **kwargs)
        if response.status_code == 401 and self.refresh_token:
            self.refresh()
            response = self._send(method, path, **kwargs)
        self._raise_for(response)
        return response

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if self.access_token:
            headers["Authorization"] = f"Bearer {self.access_token}"
        return self._http.request(method, path, headers=headers, **kwargs)

    # -- auth -------------------------------------------------------------

    def register(self, email: str, password: str, display_name: str | None = None) -> User:
        response = self._http.post(
            "/api/v1/auth/register",
            json={"email": email, "password": password, "display_name": display_name},
        )
        self._raise_for(response)
        return _user(response.json())

    def login(self, email: str, password: str) -> None:
        self._store(
            self._http.post("/api/v1/auth/login", json={"email": email, "password": password})
        )

    def refresh(self) -> None:
        if not self.refresh_token:
            raise DraftsmithError(401, "not_authenticated", "Not signed in.")
        self._store(
            self._http.post("/api/v1/auth/refresh", json={"refresh_token": self.refresh_token})
        )

    def logout(self) -> None:
        self.request("POST", "/api/v1/auth/logout")
        self.access_token = self.refresh_token = None

    def me(self) -> User:
        return _user(self.request("GET", "/api/v1/auth/me").json())

    def change_password(self, current_password: str, new_password: str) -> None:
        self.request(
            "POST",
            "/api/v1/auth/password",
            json={"current_password": current_password, "new_password": new_password},
        )

    # -- documents -----------------------------------------------------------

    def upload(self, *paths: str | Path) -> list[dict[str, Any]]:
        """Upload files (streamed from disk); returns the queued documents."""
        handles = [open(p, "rb") for p in paths]  # noqa: SIM115 - closed below
        try:
            files = [("files", (Path(h.name).name, h, "application/octet-stream")) for h in handles]
            return self.request("POST", "/api/v1/documents/upload", files=files).json()["documents"]
        finally:
            for handle in handles:
                handle.close()

    def documents(
        self, q: str | None = None, status: str | None = None, limit: int = 50
    ) -> Iterator[dict[str, Any]]:
        """Every document (following cursors), optionally searched or filtered."""
        yield from self._paged("/api/v1/documents", {"q": q, "status": status, "limit": limit})

    def document(self, document_id: str) -> dict[str, Any]:
        return self.request("GET", f"/api/v1/documents/{document_id}").json()

    def document_content(self, document_id: str) -> dict[str, Any]:
        return self.request("GET", f"/api/v1/documents/{document_id}/content").json()

    def download(self, document_id: str) -> bytes:
        return self.request("GET", f"/api/v1/documents/{document_id}/download").content

    def reprocess(self, document_id: str) -> dict[str, Any]:
        return self.request("POST", f"/api/v1/documents/{document_id}/reprocess").json()

    def delete_document(self, document_id: str) -> None:
        self.request("DELETE", f"/api/v1/documents/{document_id}")

    def wait_until_processed(
        self, document_id: str, timeout: float = 300, poll: float = 0.5
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            document = self.document(document_id)
            if document["status"] in ("ready", "failed"):
                return document
            if time.monotonic() > deadline:
                raise TimeoutError(f"document {document_id} is still {document['status']}")
            time.sleep(poll)

    # -- sessions and generation --------------------------------------------

    def create_session(self, topic: str, document_ids: list[str], **options: Any) -> dict[str, Any]:
        body = {"topic": topic, "document_ids": document_ids, **options}
        return self.request("POST", "/api/v1/sessions", json=body).json()

    def coverage(self, topic: str, document_ids: list[str]) -> dict[str, Any]:
        """How well these documents cover the topic: ``{score, found, missing, covered, about}``."""
        body = {"topic": topic, "document_ids": document_ids}
        return self.request("POST", "/api/v1/coverage", json=body).json()

    def sessions(self, limit: int = 50) -> Iterator[dict[str, Any]]:
        yield from self._paged("/api/v1/sessions", {"limit": limit})

    def session(self, session_id: str) -> dict[str, Any]:
        return self.request("GET", f"/api/v1/sessions/{session_id}").json()

    def update_session(self, session_id: str, **changes: Any) -> dict[str, Any]:
        return self.request("PATCH", f"/api/v1/sessions/{session_id}", json=changes).json()

    def delete_session(self, session_id: str) -> None:
        self.request("DELETE", f"/api/v1/sessions/{session_id}")

    def generate(self, session_id: str) -> str:
        """Start a generation; returns the new blog's id."""
        return self.request("POST", f"/api/v1/sessions/{session_id}/generate").json()["blog_id"]

    def events(
        self,
        session_id: str,
        last_event_id: int | None = None,
        blog_id: str | None = None,
        *,
        max_reconnects: int = MAX_RECONNECTS,
    ) -> Iterator[Event]:
        """Progress events, replaying what was missed; ends when no generation runs.

        A dropped connection is resumed from the last event seen (``Last-Event-ID``)
        after a growing pause (starting at the server's ``retry`` hint), at most
        ``max_reconnects`` times in a row; an event received resets the count."""
        last, base_delay, failures = last_event_id, RECONNECT_DELAY_S, 0
        params = {"blog_id": blog_id} if blog_id else None
        while True:
            headers = {} if last is None else {"Last-Event-ID": str(last)}
            try:
                with self._event_source(
                    f"/api/v1/sessions/{session_id}/events", headers, params
                ) as source:
                    for sse in source.iter_sse():
                        if sse.retry is not None:
                            base_delay = sse.retry / 1000
                        if sse.data:
                            failures, last = 0, int(sse.id)
                            yield Event(last, sse.event, sse.json())
                return
            except httpx.TransportError:
                failures += 1
                if failures > max_reconnects:
                    raise
                time.sleep(min(base_delay * 2 ** (failures - 1), MAX_RECONNECT_DELAY_S))

    @contextmanager
    def _event_source(self, path: str, headers: dict[str, str], params: dict | None):
        """An authenticated event stream (refreshing once on a 401, like ``request``)."""
        for attempt in (1, 2):
            request_headers = dict(headers)
            if self.access_token:
                request_headers["Authorization"] = f"Bearer {self.access_token}"
            with connect_sse(
                self._http, "GET", path, headers=request_headers, params=params, timeout=None
            ) as source:
                response = source.response
                if response.status_code == 401 and attempt == 1 and self.refresh_token:
                    self.refresh()
                    continue
                if not response.is_success:
                    response.read()
                    self._raise_for(response)
                yield source
                return

    # -- blogs ----------------------------------------------------------------

    def blogs(
        self, limit: int = 50, q: str | None = None, sort: str = "newest"
    ) -> Iterator[dict[str, Any]]:
        """Your blogs, matching ``q`` if given, in ``sort`` order (newest, oldest, updated,
        title), each with its excerpt, word count, documents and brief."""
        params: dict[str, Any] = {"limit": limit, "sort": sort}
        if q:
            params["q"] = q
        yield from self._paged("/api/v1/blogs", params)

    def blog(self, blog_id: str) -> dict[str, Any]:
        return self.request("GET", f"/api/v1/blogs/{blog_id}").json()

    def edit_blog(
        self, blog_id: str, revision: int, *, title: str | None = None, markdown: str | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"revision": revision}
        if title is not None:
            body["title"] = title
        if markdown is not None:
            body["markdown"] = markdown
        return self.request("PATCH", f"/api/v1/blogs/{blog_id}", json=body).json()

    def revisions(self, blog_id: str) -> list[dict[str, Any]]:
        return self.request("GET", f"/api/v1/blogs/{blog_id}/revisions").json()["items"]

    def revision(self, blog_id: str, n: int) -> dict[str, Any]:
        return self.request("GET", f"/api/v1/blogs/{blog_id}/revisions/{n}").json()

    def export(self, blog_id: str, format: str = "md") -> bytes:
        return self.request(
            "GET", f"/api/v1/blogs/{blog_id}/export", params={"format": format}
        ).content

    def cancel(self, blog_id: str) -> dict[str, Any]:
        return self.request("POST", f"/api/v1/blogs/{blog_id}/cancel").json()

    def delete_blog(self, blog_id: str) -> None:
        self.request("DELETE", f"/api/v1/blogs/{blog_id}")

    def _paged(self, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        query = {k: v for k, v in params.items() if v is not None}
        while True:
            page = self.request("GET", path, params=query).json()
            yield from page["items"]
            if not page.get("next_cursor"):
                return
            query["cursor"] = page["next_cursor"]


@dataclass(frozen=True)
class Event:
    id: int
    type: str
    data: dict[str, Any]


def _user(data: dict[str, Any]) -> User:
    return User(
        data["id"],
        data["email"],
        data.get("display_name"),
        datetime.fromisoformat(data["created_at"]),
    )
