"""Every route declares its access; protected is the default.

Routes are built by :class:`AccessRoute`.  Unless its endpoint is marked
:func:`public`, a route gets the one authentication dependency and documents
its 401 (and 403: CSRF or not allowed).  A test walks the app's routes and fails
on any route not built this way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Depends
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import BaseRoute

from draftsmith.auth.deps import UNSAFE_METHODS, current_user

F = TypeVar("F", bound=Callable[..., Any])

ERROR_SCHEMA = {
    "type": "object",
    "properties": {"detail": {"type": "string"}, "code": {"type": "string"}},
    "required": ["detail", "code"],
}
PROTECTED_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {
        "description": "Missing, invalid or expired credentials (`WWW-Authenticate: Bearer`).",
        "content": {"application/json": {"schema": ERROR_SCHEMA}},
    },
    403: {
        "description": "Authenticated but not allowed: a cookie session without its CSRF token "
        "or from another origin.",
        "content": {"application/json": {"schema": ERROR_SCHEMA}},
    },
}


def public(endpoint: F) -> F:
    """Mark an endpoint as open to anonymous callers (visible at its definition)."""
    endpoint.__draftsmith_access__ = "public"  # type: ignore[attr-defined]
    return endpoint


class AccessRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        self.access = getattr(endpoint, "__draftsmith_access__", "user")
        if self.access != "public":
            kwargs["dependencies"] = [Depends(current_user), *(kwargs.get("dependencies") or [])]
            documented = dict(PROTECTED_RESPONSES)
            if not UNSAFE_METHODS & {m.upper() for m in kwargs.get("methods") or ()}:
                documented.pop(403)
            kwargs["responses"] = {**documented, **(kwargs.get("responses") or {})}
        super().__init__(path, endpoint, **kwargs)


def router(**kwargs: Any) -> APIRouter:
    return APIRouter(route_class=AccessRoute, **kwargs)


def iter_routes(app_routes) -> list[tuple[str, BaseRoute]]:
    """Every (path, route) the app serves, looking through included routers."""
    return [
        (context.path or "", context.original_route) for context in iter_route_contexts(app_routes)
    ]
