"""The one place that decides who is calling, for API and web routes alike.

A request is authenticated by an ``Authorization: Bearer`` access token or by
the httpOnly session cookies.  A present but invalid header is a 401 and never
falls back to the cookies.  Cookie-authenticated unsafe requests need the CSRF
token and a same-origin ``Origin``/``Referer``.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from draftsmith.auth import cookies, service, tokens
from draftsmith.auth.live import Account
from draftsmith.config import Settings
from draftsmith.errors import ApiError

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# Declares the scheme in OpenAPI (so /docs "Authorize" works); the header is read below.
openapi_bearer = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


@dataclass(frozen=True)
class Caller:
    user: Account
    session_id: str
    via: str  # "bearer" or "cookie"
    access: tokens.AccessClaims | None  # None when authenticated during a refresh race


def unauthorized(code: str, detail: str) -> ApiError:
    error = 'error="invalid_token"' if code != "not_authenticated" else 'realm="draftsmith"'
    return ApiError(401, code, detail, {"WWW-Authenticate": f"Bearer {error}"})


def settings_of(request: Request) -> Settings:
    return request.app.state.settings


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def _live_user(
    request: Request, user_id: str, session_id: str, jti: str | None = None
) -> Account | None:
    """The caller's account if the session is live: from the process's memory, or one query
    (no session of the request's is opened for it)."""
    state = request.app.state
    return await state.sessions.user(state.reads, user_id, session_id, jti)


async def _from_access_token(request: Request, token: str, via: str) -> Caller:
    settings = settings_of(request)
    try:
        claims = request.app.state.sessions.claims(settings.secret(), token)
    except tokens.InvalidToken as exc:
        raise unauthorized(exc.code, exc.detail) from exc
    user = await _live_user(request, claims.user_id, claims.session_id, claims.jti)
    if user is None:
        raise unauthorized("token_revoked", "This session has been signed out.")
    return Caller(user, claims.session_id, via, claims)


async def _from_cookies(request: Request) -> Caller:
    settings = settings_of(request)
    access_name, refresh_name, _ = cookies.names(settings)
    access = request.cookies.get(access_name)
    if access:
        try:
            return await _from_access_token(request, access, "cookie")
        except ApiError as exc:
            if exc.code != "token_expired":
                request.state.clear_session_cookies = True
                raise
    refresh = request.cookies.get(refresh_name)
    if not refresh:
        raise unauthorized("not_authenticated", "Sign in to continue.")
    try:
        async with request.app.state.db() as db:
            pair = await service.rotate(db, settings, refresh)
    except service.RefreshRaced as race:
        # A parallel request renewed this session a moment ago; it carries the new cookies.
        user = await _live_user(request, race.user_id, race.session_id)
        if user is None:
            raise unauthorized("token_revoked", "This session has been signed out.") from race
        return Caller(user, race.session_id, "cookie", None)
    except ApiError as exc:
        request.state.clear_session_cookies = True
        raise unauthorized(exc.code, exc.detail) from exc
    request.state.renewed_session = pair
    user = await _live_user(request, pair.access.user_id, pair.session_id)
    if user is None:
        raise unauthorized("token_revoked", "This session has been signed out.")
    return Caller(user, pair.session_id, "cookie", pair.access)


def same_origin(request: Request, settings: Settings) -> bool:
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        referer = request.headers.get("referer")
        if not referer:
            return False
        parts = urlsplit(referer)
        origin = f"{parts.scheme}://{parts.netloc}"
    own = f"{request.url.scheme}://{request.headers.get('host', '')}"
    return origin in (settings.origin, own)


async def submitted_csrf_token(request: Request) -> str | None:
    header = request.headers.get("x-csrf-token")
    if header:
        return header
    # Only small urlencoded forms carry the token as a field: a multipart body may be
    # an upload that must stream to disk, so it needs the header.
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        value = (await request.form()).get("csrf_token")
        return value if isinstance(value, str) else None
    return None


async def _check_csrf(request: Request, caller: Caller) -> None:
    settings = settings_of(request)
    if not same_origin(request, settings):
        raise ApiError(403, "csrf_origin", "Cross-site request refused (Origin does not match).")
    submitted = await submitted_csrf_token(request)
    cookie = request.cookies.get(cookies.csrf_cookie_name(settings))
    expected = tokens.session_csrf_token(settings.secret(), caller.session_id)
    if (
        not submitted
        or not cookie
        or not (hmac.compare_digest(submitted, expected) and hmac.compare_digest(cookie, expected))
    ):
        raise ApiError(
            403, "csrf_failed", "Missing or invalid CSRF token; reload the page and try again."
        )


async def current_user(
    request: Request,
    _scheme: str | None = Depends(openapi_bearer),
) -> Caller:
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthorized(
                "invalid_authorization", "Use 'Authorization: Bearer <access token>'."
            )
        caller = await _from_access_token(request, token.strip(), "bearer")
    else:
        caller = await _from_cookies(request)
        if request.method in UNSAFE_METHODS:
            await _check_csrf(request, caller)
    request.state.caller = caller
    return caller


CurrentCaller = Annotated[Caller, Depends(current_user)]
