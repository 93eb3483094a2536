"""DraftsmithClient: the Python client of the API.

It always sends the bearer access token, and on a 401 refreshes once and
retries, so callers never handle token expiry themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx


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
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout, transport=transport)
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
        self._store(self._http.post("/api/v1/auth/login", json={"email": email, "password": password}))

    def refresh(self) -> None:
        if not self.refresh_token:
            raise DraftsmithError(401, "not_authenticated", "Not signed in.")
        self._store(self._http.post("/api/v1/auth/refresh", json={"refresh_token": self.refresh_token}))

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


def _user(data: dict[str, Any]) -> User:
    return User(data["id"], data["email"], data.get("display_name"), datetime.fromisoformat(data["created_at"]))
