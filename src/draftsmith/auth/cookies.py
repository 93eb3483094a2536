"""The browser session cookies of the contract: ds_access, ds_refresh (httpOnly), ds_csrf.

Every cookie has ``Path=/``. ``ds_refresh`` cannot be scoped to a renewal path: an expired
``ds_access`` is renewed transparently on whatever page or API request comes next (see
``auth.deps``), so the refresh token must reach every path. ``SameSite=Lax``, httpOnly and the
``__Host-`` prefix (over HTTPS) keep it from other sites and scripts.
"""

from __future__ import annotations

from starlette.requests import Request
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


# Sent with every sign-out: the browser drops this site's cookies and storage too.
CLEAR_SITE_DATA = '"cookies", "storage"'


def signed_out(request: Request, response: Response) -> Response:
    """Make ``response`` end the browser session: cookies cleared, no renewal applied."""
    request.state.renewed_session = None
    request.state.clear_session_cookies = True
    response.headers["Clear-Site-Data"] = CLEAR_SITE_DATA
    return response
