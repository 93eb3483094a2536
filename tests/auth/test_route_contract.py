"""Walks every route of the app and proves its declared access holds."""

from __future__ import annotations

import re
import uuid

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.routing import Mount, Route

from draftsmith.auth.access import AccessRoute, iter_routes
from tests.conftest import browser_login, login, register

FRAMEWORK_ROUTES = {"/openapi.json"}  # FastAPI's schema: public by nature
STATIC_MOUNTS = {"/static", "/static/swagger"}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def undeclared_routes(app: FastAPI) -> list[str]:
    """Routes that were not built through AccessRoute (and so declare no access)."""
    bad = []
    for path, route in iter_routes(app.routes):
        if isinstance(route, Mount) and path in STATIC_MOUNTS:
            continue
        if (
            isinstance(route, Route)
            and not isinstance(route, APIRoute)
            and path in FRAMEWORK_ROUTES
        ):
            continue
        if not isinstance(route, AccessRoute):
            bad.append(path)
    return bad


def protected_operations(app: FastAPI) -> list[tuple[str, str]]:
    ops = []
    for path, route in iter_routes(app.routes):
        if isinstance(route, AccessRoute) and route.access != "public":
            for method in sorted(route.methods - {"HEAD"}):
                ops.append((method, path))
    return ops


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)


def test_every_route_declares_access(app):
    assert undeclared_routes(app) == []
    assert len(protected_operations(app)) >= 4


def test_a_route_without_declaration_is_caught(app):
    plain = APIRouter()  # not built through draftsmith.auth.access.router()
    plain.add_api_route("/api/v1/sneaky", lambda: {"ok": True})
    app.include_router(plain)
    try:
        assert undeclared_routes(app) == ["/api/v1/sneaky"]
    finally:
        app.router.routes.pop()


def test_openapi_documents_401_and_csrf_403(app):
    schema = app.openapi()
    for method, path in protected_operations(app):
        if not path.startswith("/api/"):
            continue
        operation = schema["paths"][path][method.lower()]
        assert "401" in operation["responses"], (method, path)
        assert operation.get("security"), (method, path)
        if method in UNSAFE:
            assert "403" in operation["responses"], (method, path)
    assert (
        schema["components"]["securitySchemes"]["OAuth2PasswordBearer"]["flows"]["password"][
            "tokenUrl"
        ]
        == "/api/v1/auth/token"
    )


async def test_each_protected_route_enforces_the_one_auth_path(app, client):
    await register(client)
    operations = protected_operations(app)
    sessions: dict[str, object] = {}

    async def bearer() -> dict[str, str]:
        if "bearer" not in sessions:
            sessions["bearer"] = (await login(client))["access_token"]
        return {"Authorization": f"Bearer {sessions['bearer']}"}

    async def browser():
        if "cookie" not in sessions:
            sessions["cookie"] = await browser_login(app)
        return sessions["cookie"]

    def forget_if_signed_out(path: str) -> None:
        if "logout" in path:
            sessions.clear()

    for method, template in operations:
        path = concrete(template)
        is_page = method == "GET" and not path.startswith("/api/")

        # anonymous: 401 with WWW-Authenticate (a page visit is sent to sign in instead)
        anonymous = await client.request(method, path)
        if is_page:
            assert anonymous.status_code == 303, (method, template)
            assert anonymous.headers["location"].startswith("/login?next=")
        else:
            assert anonymous.status_code == 401, (method, template, anonymous.text)
            assert anonymous.headers["www-authenticate"].startswith("Bearer")
            assert anonymous.json()["code"] == "not_authenticated"

        # a bearer token is accepted, and the call is answered without a server error
        response = await client.request(method, path, headers=await bearer())
        assert response.status_code not in (401, 403), (method, template, response.text)
        assert response.status_code < 500, (method, template, response.text)
        forget_if_signed_out(path)

        # a cookie session is accepted (with its CSRF token for unsafe methods)
        session = await browser()
        headers = {}
        if method in UNSAFE:
            headers["X-CSRF-Token"] = session.cookies["ds_csrf"]
        response = await session.request(method, path, headers=headers)
        assert response.status_code not in (401, 403), (method, template, response.text)
        assert response.status_code < 500, (method, template, response.text)
        forget_if_signed_out(path)

        # a cookie session without the CSRF token is refused for unsafe methods
        if method in UNSAFE:
            session = await browser()
            response = await session.request(method, path)
            assert response.status_code == 403, (method, template, response.text)
            assert response.json()["code"] == "csrf_failed"


@pytest.mark.parametrize(
    "path", ["/healthz", "/readyz", "/login", "/register", "/docs", "/openapi.json"]
)
async def test_public_routes_need_no_credentials(client, path):
    response = await client.get(path)
    assert response.status_code == 200, response.text
