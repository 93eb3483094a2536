"""No client input gets a 500: every API route, odd path values and odd bodies."""

from __future__ import annotations

import re

from draftsmith.auth.access import AccessRoute, iter_routes

ODD_VALUES = ["x", "9" * 30, "-1", "0", "' OR 1=1 --", "%00", "ü" * 40, "a" * 300]
ODD_BODIES = [
    None,
    {},
    [],
    "just a string",
    {"revision": 9 * 10**30, "title": "t", "markdown": "m"},
    {"revision": -1},
    {"topic": "x" * 5000, "document_ids": ["a"] * 500},
    {"topic": "valid topic", "document_ids": [None, 1, {"a": 1}]},
    {"email": ["x"], "password": {"a": 1}},
    {"refresh_token": "x" * 100_000},
    {"current_password": 1, "new_password": None},
]


def api_operations(app):
    for path, route in iter_routes(app.routes):
        if isinstance(route, AccessRoute) and path.startswith("/api/"):
            for method in sorted(route.methods - {"HEAD"}):
                yield method, path


async def test_no_500_on_odd_input(app, user):
    checked = 0
    for method, template in api_operations(app):
        if template.endswith(("/logout", "/logout-all")):  # would end the session
            continue
        for value in ODD_VALUES:
            path = re.sub(r"\{[^}]+\}", value.replace("/", ""), template)
            for body in ODD_BODIES if method in ("POST", "PATCH", "PUT") else [None]:
                kwargs = {"json": body} if body is not None else {}
                response = await user.request(method, path, **kwargs)
                assert response.status_code < 500, (method, path, body, response.text)
                assert response.headers["content-type"].startswith(
                    ("application/json", "text/event-stream")
                ), (method, path)
                checked += 1
    for params in (
        {"limit": "9" * 30},
        {"cursor": "%%%"},
        {"cursor": "bzo5OTk5OTk5OTk5OTk5OTk5OTk5OTk5"},
        {"q": "\x00"},
        {"status": "x"},
        {"format": "exe"},
    ):
        for path in ("/api/v1/documents", "/api/v1/sessions", "/api/v1/blogs"):
            response = await user.get(path, params=params)
            assert response.status_code < 500, (path, params, response.text)
    assert checked > 200


async def test_huge_revision_numbers_on_a_real_blog(app, user):
    from tests.blogs.helpers import generate, new_session, ready_documents
    from tests.blogs.test_generation_api import wait_blog
    from tests.documents.helpers import fixture

    doc_ids = await ready_documents(user, fixture("lighthouses.md"))
    blog_id = await generate(
        user, (await new_session(user, doc_ids, topic="lighthouse keepers", length="short"))["id"]
    )
    await wait_blog(user, blog_id)
    for n in ("99999999999999999999", "2147483648", "-5"):
        response = await user.get(f"/api/v1/blogs/{blog_id}/revisions/{n}")
        assert response.status_code == 422, response.text
    patch = await user.request(
        "PATCH", f"/api/v1/blogs/{blog_id}", json={"revision": 2**40, "title": "x"}
    )
    assert patch.status_code == 422


async def test_forms_with_nul_characters(app, client):
    page = await client.get("/login")
    csrf = client.cookies["ds_csrf"]
    headers = {"Origin": "http://testserver"}
    for path, data in [
        ("/login", {"email": "a\x00@example.com", "password": "x", "csrf_token": csrf}),
        (
            "/register",
            {"email": "b@example.com", "password": "a long pass\x00phrase", "csrf_token": csrf},
        ),
        ("/api/v1/auth/token", {"username": "\x00", "password": "x"}),
    ]:
        response = await client.post(path, data=data, headers=headers)
        assert response.status_code == 422, (path, response.text)
    assert page.status_code == 200
