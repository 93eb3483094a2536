"""The one error shape: ``{"detail": "<sentence>", "code": "<snake_case>"}``."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Request, params
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.routing import iter_route_contexts
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_type",
    422: "validation_error",
    429: "rate_limited",
}


class ValidationIssue(BaseModel):
    """One reason a request was refused: where (``loc``), what (``msg``) and its ``type``."""

    loc: list[str | int]
    msg: str
    type: str
    ctx: dict[str, Any] | None = None


class ErrorOut(BaseModel):
    """Every error answer: a sentence for a person, or the list of validation issues for
    ``validation_error``, and a stable snake_case ``code`` for programs."""

    detail: str | list[ValidationIssue] = Field(
        description="What went wrong; for `validation_error`, one issue per refused field."
    )
    code: str = Field(description="Stable snake_case error code, e.g. `not_found`.")


def is_page_visit(request: Request) -> bool:
    """A browser navigating to an HTML page (not the JSON API)."""
    return request.method == "GET" and not request.url.path.startswith("/api/")


class ApiError(Exception):
    """An error a client can act on; raised anywhere, answered as JSON."""

    def __init__(
        self, status: int, code: str, detail: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers or {}


class NotFound(ApiError):
    def __init__(self, what: str = "Resource") -> None:
        super().__init__(404, "not_found", f"{what} not found.")


def error_response(status: int, code: str, detail: object, headers=None) -> JSONResponse:
    return JSONResponse(
        {"detail": jsonable_encoder(detail), "code": code}, status_code=status, headers=headers
    )


def wants_html(request: Request) -> bool:
    """A browser asking for a page: a GET outside the API that accepts HTML."""
    accept = request.headers.get("accept", "")
    return (
        request.method in ("GET", "HEAD")
        and not request.url.path.startswith("/api/")
        and "text/html" in accept
    )


PageRenderer = Callable[[Request], Awaitable[Response]]


def install_error_handlers(app: FastAPI, not_found_page: PageRenderer | None = None) -> None:
    """JSON errors everywhere; an unknown URL a browser asks for gets ``not_found_page``
    (the app's HTML 404) when one is given."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        if exc.status == 401 and is_page_visit(request):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?{urlencode({'next': target})}", status_code=303)
        return error_response(exc.status, exc.code, exc.detail, exc.headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404 and not_found_page is not None and wants_html(request):
            return await not_found_page(request)
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        detail = exc.detail
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 404 and detail == "Not Found":
            detail = "No such endpoint."
        if exc.status_code == 405:
            methods = allowed_methods(request.app, request.url.path)
            headers["Allow"] = ", ".join(methods)
            detail = f"{request.method} is not allowed here; use {' or '.join(methods)}."
        return error_response(exc.status_code, code, detail, headers or None)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        if _body_not_json(request):
            return error_response(
                415,
                "unsupported_media_type",
                "Send the body as JSON, with the header Content-Type: application/json.",
            )
        errors = [{k: v for k, v in e.items() if k != "input"} for e in exc.errors()]
        return error_response(422, "validation_error", errors)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal_error", "Something went wrong on our side.")


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method of the routes at this path (for the ``Allow`` of a 405); a fixed path
    (``/documents/upload``) is its own resource, not an id of a templated one."""
    matches = [
        context
        for context in iter_route_contexts(app.routes)
        if context.path and context.methods and compile_path(context.path)[0].match(path)
    ]
    exact = [context for context in matches if context.path == path]
    return sorted({method for context in exact or matches for method in context.methods})


def _body_not_json(request: Request) -> bool:
    """The route reads a JSON body and the request declared another content type."""
    field = getattr(request.scope.get("route"), "body_field", None)
    declared = request.headers.get("content-type")
    if field is None or isinstance(field.field_info, params.Form) or not declared:
        return False
    media_type = declared.split(";", 1)[0].strip().lower()
    return not (media_type == "application/json" or media_type.endswith("+json"))
