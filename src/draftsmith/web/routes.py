"""Browser pages: sign-in, registration, sign-out and the dashboard pages.

The dashboard pages are shells: their scripts load and change data through the
JSON API (static/api.js), the same contract every other client uses.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Form, Path, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import EmailStr, TypeAdapter, ValidationError

from draftsmith.auth import cookies, service, tokens
from draftsmith.auth.access import public, router
from draftsmith.auth.deps import CurrentCaller, client_address, same_origin, settings_of
from draftsmith.config import ENV_PREFIX
from draftsmith.db import Db, get_owned
from draftsmith.documents.models import Document
from draftsmith.documents.viewer import build_view
from draftsmith.errors import ApiError, NotFound
from draftsmith.generation.coverage import COVERED_AT
from draftsmith.web.pages import render, safe_next

routes = router(include_in_schema=False)

EMAIL = TypeAdapter(EmailStr)
#: the settings that turn the LLM engine on (names only: the page shows no values)
LLM_SETTINGS = tuple(
    ENV_PREFIX + name.upper() for name in ("llm_base_url", "llm_model", "llm_api_key")
)


#: what the login page says after `?signed_out=` (a sign-out, from everywhere, a deletion)
SIGNED_OUT = {
    "1": "You have signed out.",
    "all": "You have signed out everywhere: every browser and app using your account.",
    "deleted": "Your account and everything in it were deleted.",
}


def _form_csrf(request: Request) -> str:
    """The pre-login CSRF token: reuse a valid cookie, else mint one."""
    settings = settings_of(request)
    existing = request.cookies.get(cookies.csrf_cookie_name(settings))
    if existing and tokens.anonymous_csrf_valid(settings.secret(), existing):
        return existing
    return tokens.anonymous_csrf_token(settings.secret())


def _check_login_csrf(request: Request, submitted: str) -> None:
    settings = settings_of(request)
    cookie = request.cookies.get(cookies.csrf_cookie_name(settings)) or ""
    if not same_origin(request, settings):
        raise ApiError(403, "csrf_origin", "Cross-site request refused (Origin does not match).")
    if not (
        submitted
        and hmac.compare_digest(submitted, cookie)
        and tokens.anonymous_csrf_valid(settings.secret(), submitted)
    ):
        raise ApiError(403, "csrf_failed", "Your form expired; reload the page and try again.")


def _auth_page(request: Request, template: str, status_code: int = 200, **context):
    token = _form_csrf(request)
    response = render(request, template, status_code, csrf_token=token, **context)
    cookies.set_anonymous_csrf(response, settings_of(request), token)
    return response


@routes.get("/")
@public
async def home():
    return RedirectResponse("/dashboard", status_code=303)


@routes.get("/login")
@public
async def login_page(
    request: Request,
    next: str | None = None,
    signed_out: Annotated[str | None, Query(max_length=20)] = None,
):
    notice = SIGNED_OUT.get(signed_out or "")
    return _auth_page(request, "login.html", next=safe_next(next), email="", notice=notice)


@routes.post("/login")
@public
async def login_submit(
    request: Request,
    db: Db,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
):
    target = safe_next(next)
    try:
        _check_login_csrf(request, csrf_token)
        limiter = request.app.state.login_limiter
        address = client_address(request)
        pair = await service.sign_in(db, settings_of(request), limiter, email, password, address)
    except ApiError as exc:
        response = _auth_page(
            request,
            "login.html",
            exc.status,
            next=target,
            email=email,
            error=exc.detail,
            error_code=exc.code,
        )
        response.headers.update(exc.headers)
        return response
    response = RedirectResponse(target, status_code=303)
    cookies.set_session(response, settings_of(request), pair)
    return response


@routes.get("/register")
@public
async def register_page(request: Request):
    return _auth_page(request, "register.html", email="", display_name="")


@routes.post("/register")
@public
async def register_submit(
    request: Request,
    db: Db,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    display_name: Annotated[str, Form(max_length=120)] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
):
    settings = settings_of(request)
    try:
        _check_login_csrf(request, csrf_token)
        try:
            email = EMAIL.validate_python(email)
        except ValidationError as exc:
            raise ApiError(422, "invalid_email", "Enter a valid email address.") from exc
        limiter = request.app.state.login_limiter
        address = client_address(request)
        user = await service.register_account(
            db, settings, limiter, email, password, display_name, address
        )
    except ApiError as exc:
        response = _auth_page(
            request,
            "register.html",
            exc.status,
            email=email,
            display_name=display_name,
            error=exc.detail,
            error_code=exc.code,
        )
        response.headers.update(exc.headers)
        return response
    pair = await service.start_session(db, settings, user)
    response = RedirectResponse("/dashboard", status_code=303)
    cookies.set_session(response, settings, pair)
    return response


@routes.post("/logout")
async def logout(request: Request, caller: CurrentCaller, db: Db):
    await service.sign_out(db, caller.user.id, caller.session_id, caller.access)
    target = "/login?signed_out=1"  # the login page says so
    return cookies.signed_out(request, RedirectResponse(target, status_code=303))


@routes.get("/dashboard")
async def dashboard(request: Request, caller: CurrentCaller):
    return render(request, "dashboard.html", user=caller.user)


@routes.get("/dashboard/documents")
async def documents_page(request: Request, caller: CurrentCaller):
    return render(request, "documents.html", max_upload_mb=settings_of(request).max_upload_mb)


@routes.get("/dashboard/documents/{document_id}")
async def document_viewer(
    request: Request,
    caller: CurrentCaller,
    db: Db,
    document_id: Annotated[str, Path(min_length=1, max_length=64)],
    start: Annotated[str | None, Query()] = None,
    end: Annotated[str | None, Query()] = None,
):
    """A document's extracted text; ``?start=&end=`` (offsets into it) marks a cited span."""
    try:
        document = await get_owned(db, Document, document_id, caller.user.id)
    except NotFound:
        return render(request, "not_found.html", 404, what="document")
    view = None
    if document.status == "ready" and document.markdown is not None:
        view = build_view(
            document.markdown, document.sections, start, end, reflow=document.kind == "pdf"
        )
    return render(request, "viewer.html", document=document, view=view)


@routes.get("/dashboard/generate")
async def generate_page(request: Request, caller: CurrentCaller):
    settings = settings_of(request)
    return render(
        request,
        "generate.html",
        default_engine=settings.default_engine,
        llm_configured=bool(settings.llm_base_url),
        llm_settings=LLM_SETTINGS,
        covered_at=COVERED_AT,
    )


@routes.get("/dashboard/blogs")
async def blogs_page(request: Request, caller: CurrentCaller):
    return render(request, "blogs.html")


@routes.get("/dashboard/blogs/{blog_id}")
async def editor_page(
    request: Request,
    caller: CurrentCaller,
    blog_id: Annotated[str, Path(min_length=1, max_length=64)],
):
    llm_configured = bool(settings_of(request).llm_base_url)  # the regenerate dialog's engines
    return render(request, "editor.html", blog_id=blog_id, llm_configured=llm_configured)


@routes.get("/dashboard/account")
async def account_page(request: Request, caller: CurrentCaller):
    return render(request, "account.html", user=caller.user)
