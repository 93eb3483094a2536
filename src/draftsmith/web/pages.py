"""Shared helpers for server-rendered pages."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.templating import Jinja2Templates

from draftsmith.auth import cookies
from draftsmith.auth.deps import current_user

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def render(request: Request, name: str, status_code: int = 200, **context):
    context.setdefault("caller", getattr(request.state, "caller", None))
    context["csp_nonce"] = request.state.csp_nonce
    context["csrf_cookie"] = cookies.csrf_cookie_name(request.app.state.settings)
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def safe_next(target: str | None, default: str = "/dashboard") -> str:
    """Only local paths: no scheme, no host, no protocol-relative or backslash tricks."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    if any(ch in target for ch in "\\\r\n\t"):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


async def not_found_page(request: Request):
    """The HTML 404 of an unknown URL: with the navigation when the visitor is signed in."""
    try:
        await current_user(request, None)
    except Exception:  # signed out, or the database is away: the page shows all the same
        request.state.caller = None
    return render(request, "not_found.html", 404, unknown_url=True)
