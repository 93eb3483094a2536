"""The browser session cookies of the contract: ds_access, ds_refresh (httpOnly), ds_csrf."""

from __future__ import annotations

from starlette.responses import Response

from draftsmith.auth import tokens
from draftsmith.config import Settings


def names(settings: Settings) -> tuple[str, str, str]:
    prefix = "__Host-" if settings.secure_cookies else ""
    return prefix + "ds_access", prefix + "ds_refresh", prefix + "ds_csrf"


def csrf_cookie_name(settings: Settings) -> str:
    return names(settings)[2]


def _set(
    response: Response, settings: Settings, name: str, value: str, max_age: int, http_only: bool
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        secure=settings.secure_cookies,
        httponly=http_only,
        samesite="lax",
    )


def set_session(response: Response, settings: Settings, pair) -> None:
    """Attach a fresh sign-in (a service.TokenPair) to the response."""
    access, refresh, csrf = names(settings)
    lifetime = settings.refresh_family_ttl_days * 86400
    _set(response, settings, access, pair.access_token, settings.access_token_ttl_s, True)
    _set(response, settings, refresh, pair.refresh_token, lifetime, True)
    _set(
        response,
        settings,
        csrf,
        tokens.session_csrf_token(settings.secret(), pair.session_id),
        lifetime,
        False,
    )


def set_anonymous_csrf(response: Response, settings: Settings, token: str) -> None:
    _set(response, settings, csrf_cookie_name(settings), token, 3600 * 12, False)


def clear_session(response: Response, settings: Settings) -> None:
    for name in names(settings):
        response.delete_cookie(
            name, path="/", secure=settings.secure_cookies, httponly=True, samesite="lax"
        )
