"""ASGI middleware: security headers, session-cookie renewal, the body-size limit, and the
request id, metrics and access log of every request."""

from __future__ import annotations

import logging
import re
import secrets
import time
import uuid

from fastapi import HTTPException
from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from draftsmith import logs, metrics
from draftsmith.auth import cookies
from draftsmith.config import Settings
from draftsmith.errors import error_response

access_log = logging.getLogger("draftsmith.access")

# Browser features the app never uses, denied to it and to anything it could embed.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "bluetooth",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "hid",
        "idle-detection",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
)


class SecurityHeaders:
    """Adds CSP (with a per-request nonce), nosniff, framing, referrer, COOP, CORP and
    Permissions-Policy headers, applies renewed or cleared session cookies, and marks
    authenticated answers no-store."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(16)
        state = scope.setdefault("state", {})
        state["csp_nonce"] = nonce

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = (
                    "default-src 'self'; "
                    f"script-src 'self' 'nonce-{nonce}'; "
                    f"style-src 'self' 'nonce-{nonce}'; "
                    "img-src 'self' data:; font-src 'self'; connect-src 'self'; "
                    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
                )
                headers["X-Content-Type-Options"] = "nosniff"
                headers["X-Frame-Options"] = "DENY"
                headers["Referrer-Policy"] = "same-origin"
                headers["Cross-Origin-Opener-Policy"] = "same-origin"
                headers["Cross-Origin-Resource-Policy"] = "same-origin"
                headers["Permissions-Policy"] = PERMISSIONS_POLICY
                if self.settings.secure_cookies:
                    headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
                if "caller" in state or scope["path"].startswith("/api/"):
                    headers["Cache-Control"] = (
                        "no-store"  # tokens and private data stay out of caches
                    )
                for value in _cookie_headers(state, self.settings):
                    headers.append("set-cookie", value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _cookie_headers(state: dict, settings: Settings) -> list[str]:
    """Set-Cookie values for a session renewed or ended while resolving the caller."""
    carrier = Response()
    if state.get("renewed_session") is not None:
        cookies.set_session(carrier, settings, state["renewed_session"])
    elif state.get("clear_session_cookies"):
        cookies.clear_session(carrier, settings)
    else:
        return []
    return [v.decode("latin-1") for k, v in carrier.raw_headers if k == b"set-cookie"]


class BodyLimit:
    """Refuses JSON and form bodies over the limit (413) before they are read whole.

    Uploads (multipart) are limited by the upload route while it streams to disk.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, multipart_max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.multipart_max_bytes = multipart_max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        content_type = dict(scope["headers"]).get(b"content-type", b"").decode("latin-1")
        limit = (
            self.multipart_max_bytes if content_type.startswith("multipart/") else self.max_bytes
        )
        declared = dict(scope["headers"]).get(b"content-length")
        too_large = error_response(
            413, "payload_too_large", f"The request body is larger than {limit // 1024} KB."
        )
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await too_large(scope, receive, send)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _BodyTooLarge:
            if not started:
                await too_large(scope, receive, send)


class _BodyTooLarge(HTTPException):
    """Raised from ``receive``; FastAPI re-raises HTTPExceptions met while reading a body."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than {limit // 1024} KB.")


class RejectNul:
    """A NUL character in the path or query is refused (400) before any route sees it:
    no database stores one, and no legitimate client sends one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            raw = scope.get("raw_path", b"") + b"?" + scope.get("query_string", b"")
            if b"\x00" in raw or b"%00" in raw.lower() or "\x00" in scope["path"]:
                response = error_response(
                    400, "invalid_characters", "The URL contains a NUL character."
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


class Observe:
    """Request id (kept when the caller's is sane, else made), the request metrics and one
    access log line per request (request id, user id, route template, status, duration)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get("x-request-id", "")
        rid = incoming if _SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        token = logs.request_id.set(rid)
        started = time.perf_counter()
        status: int | None = None

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = rid
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            # Answered here, not by Starlette's outermost handler, so the 500 carries the id.
            access_log.exception("unhandled error on %s %s", scope["method"], scope["path"])
            if status is not None:
                raise  # the response had started: nothing more can be sent
            failure = error_response(500, "internal_error", "Something went wrong on our side.")
            await failure(scope, receive, send_with_id)
        finally:
            self._record(scope, status or 500, time.perf_counter() - started)
            logs.request_id.reset(token)

    @staticmethod
    def _record(scope: Scope, status: int, seconds: float) -> None:
        # bounded label values: a client cannot invent new series
        route = getattr(scope.get("route"), "path", None) or "(unmatched)"
        method = scope["method"] if scope["method"] in _METHODS else "OTHER"
        metrics.HTTP_REQUESTS.labels(method, route, str(status)).inc()
        metrics.HTTP_DURATION.labels(method, route).observe(seconds)
        caller = scope.get("state", {}).get("caller")
        access_log.info(
            "%s %s %s %.1f ms",
            method,
            route,
            status,
            seconds * 1000,
            extra={
                "method": method,
                "route": route,
                "status": status,
                "duration_ms": round(seconds * 1000, 1),
                "user_id": _user_id(caller),
            },
        )


def _user_id(caller) -> str | None:
    return caller.user.id if caller is not None else None
