"""The one ASGI layer every request passes: request id, NUL refusal, body-size limit,
security headers, session-cookie renewal, and the metrics and access log of the answer.

One layer, not five, so the request and its answer are walked once (one ``send`` wrapper);
what does not change per request (the headers but the CSP nonce) is built at start-up."""

from __future__ import annotations

import base64
import functools
import logging
import os
import re
import time

from fastapi import HTTPException
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


_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
_CSP = (
    "default-src 'self'; script-src 'self' 'nonce-{0}'; style-src 'self' 'nonce-{0}'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def _static_headers(settings: Settings) -> list[tuple[bytes, bytes]]:
    headers = {
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "same-origin",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Permissions-Policy": PERMISSIONS_POLICY,
    }
    if settings.secure_cookies:
        headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    return [(name.lower().encode(), value.encode()) for name, value in headers.items()]


class Gateway:
    """Request id (kept when the caller's is sane, else made); a NUL character in the path
    or query refused (400: no database stores one, no legitimate client sends one); JSON and
    form bodies over the limit refused (413) before they are read whole (uploads are limited
    by their route while they stream to disk); on every answer the request id, CSP (with a
    per-request nonce), nosniff, framing, referrer, COOP, CORP and Permissions-Policy headers,
    renewed or cleared session cookies, and no-store on API and authenticated answers; then
    the request metrics and one access log line (request id, user id, route, status, time)."""

    def __init__(
        self, app: ASGIApp, settings: Settings, max_bytes: int, multipart_max_bytes: int
    ) -> None:
        self.app = app
        self.settings = settings
        self.max_bytes = max_bytes
        self.multipart_max_bytes = multipart_max_bytes
        self.static_headers = _static_headers(settings)
        self.replaced = {name for name, _ in self.static_headers} | {
            b"content-security-policy",
            b"x-request-id",
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = dict(scope["headers"])
        # one read of the system's randomness for both: the nonce and a request id
        random = os.urandom(32)
        nonce = base64.urlsafe_b64encode(random[:16]).rstrip(b"=").decode()
        incoming = headers.get(b"x-request-id")
        rid = incoming.decode("latin-1") if incoming else ""
        if not _SANE_REQUEST_ID.fullmatch(rid):
            rid = random[16:].hex()
        token = logs.request_id.set(rid)
        state = scope.setdefault("state", {})
        state["csp_nonce"] = nonce
        status: int | None = None

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = self._answer_headers(message, scope, state, rid, nonce)
            await send(message)

        try:
            await self._guarded(scope, receive, send_with_headers, headers)
        except Exception:
            # Answered here, not by Starlette's outermost handler, so the 500 carries the id.
            access_log.exception("unhandled error on %s %s", scope["method"], scope["path"])
            if status is not None:
                raise  # the response had started: nothing more can be sent
            failure = error_response(500, "internal_error", "Something went wrong on our side.")
            await failure(scope, receive, send_with_headers)
        finally:
            _record(scope, status or 500, time.perf_counter() - started)
            logs.request_id.reset(token)

    def _answer_headers(
        self, message: Message, scope: Scope, state: dict, rid: str, nonce: str
    ) -> list[tuple[bytes, bytes]]:
        replaced = self.replaced
        private = "caller" in state or scope["path"].startswith("/api/")
        headers = [
            (name, value)
            for name, value in message.get("headers", ())
            if name.lower() not in replaced and not (private and name.lower() == b"cache-control")
        ]
        headers += self.static_headers
        headers.append((b"content-security-policy", _CSP.format(nonce).encode()))
        headers.append((b"x-request-id", rid.encode()))
        if private:
            headers.append((b"cache-control", b"no-store"))  # tokens and private data
        for value in _cookie_headers(state, self.settings):
            headers.append((b"set-cookie", value.encode("latin-1")))
        return headers

    async def _guarded(self, scope: Scope, receive: Receive, send: Send, headers: dict) -> None:
        """The app, behind the NUL refusal and the body-size limit."""
        raw = scope.get("raw_path", b"") + b"?" + scope.get("query_string", b"")
        if b"\x00" in raw or b"%00" in raw.lower() or "\x00" in scope["path"]:
            refused = error_response(400, "invalid_characters", "The URL contains a NUL character.")
            await refused(scope, receive, send)
            return
        content_type = headers.get(b"content-type", b"")
        multipart = content_type.startswith(b"multipart/")
        limit = self.multipart_max_bytes if multipart else self.max_bytes
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _too_large(limit)(scope, receive, send)
            return
        if declared is None and b"transfer-encoding" not in headers:
            await self.app(scope, receive, send)  # no body to count
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
                await _too_large(limit)(scope, receive, send)


def _too_large(limit: int) -> Response:
    return error_response(
        413, "payload_too_large", f"The request body is larger than {limit // 1024} KB."
    )


def _cookie_headers(state: dict, settings: Settings) -> list[str]:
    """Set-Cookie values for a session renewed or ended while resolving the caller."""
    renewed, cleared = state.get("renewed_session"), state.get("clear_session_cookies")
    if renewed is None and not cleared:
        return []  # most answers: no carrier built
    carrier = Response()
    if renewed is not None:
        cookies.set_session(carrier, settings, renewed)
    else:
        cookies.clear_session(carrier, settings)
    return [v.decode("latin-1") for k, v in carrier.raw_headers if k == b"set-cookie"]


class _BodyTooLarge(HTTPException):
    """Raised from ``receive``; FastAPI re-raises HTTPExceptions met while reading a body."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than {limit // 1024} KB.")


@functools.lru_cache(maxsize=4096)
def _series(method: str, route: str, status: int):
    """The request counter and timer of these labels (looked up once, not per request)."""
    return (
        metrics.HTTP_REQUESTS.labels(method, route, str(status)),
        metrics.HTTP_DURATION.labels(method, route),
    )


def _record(scope: Scope, status: int, seconds: float) -> None:
    # bounded label values: a client cannot invent new series
    route = getattr(scope.get("route"), "path", None) or "(unmatched)"
    method = scope["method"] if scope["method"] in _METHODS else "OTHER"
    counter, timer = _series(method, route, status)
    counter.inc()
    timer.observe(seconds)
    if not access_log.isEnabledFor(logging.INFO):
        return
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
            "user_id": caller.user.id if caller is not None else None,
        },
    )
