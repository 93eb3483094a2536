"""Issue 11, point 5: an unknown URL in a browser gets the app's HTML 404 page (the API keeps
its JSON 404); the login page says when the user has signed out; every operation in the
OpenAPI document has a human summary and a description."""

from __future__ import annotations

import pytest

from tests.conftest import browser_login, register

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.mark.parametrize("path", ["/nowhere", "/dashboard/no-such-page", "/blogs/42"])
async def test_an_unknown_url_in_a_browser_is_the_html_404_page(client, path):
    response = await client.get(path, headers=HTML)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "doesn&#39;t exist" in response.text or "doesn't exist" in response.text
    assert f'<code class="not-found-path">{path}</code>' in response.text
    assert 'href="/login"' in response.text  # signed out: the way in
    assert 'aria-label="Main"' not in response.text
    assert response.headers.get("x-request-id")


async def test_the_404_page_of_a_signed_in_user_has_the_navigation(app, client):
    await register(client)
    browser = await browser_login(app)
    try:
        response = await browser.get("/what-is-this", headers=HTML)
    finally:
        await browser.aclose()
    assert response.status_code == 404 and 'aria-label="Main"' in response.text
    assert 'href="/dashboard/blogs"' in response.text


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/api/v1/nowhere", HTML),  # the API answers JSON whatever the browser accepts
        ("/api/v1/blogs/x/nothing", HTML),
        ("/nowhere", {"Accept": "application/json"}),  # a program asking outside the API
        ("/nowhere", {}),
    ],
)
async def test_the_api_and_programs_keep_the_json_404(client, path, headers):
    response = await client.get(path, headers=headers)
    assert response.status_code == 404
    assert response.json() == {"detail": "No such endpoint.", "code": "not_found"}


async def test_a_post_to_an_unknown_url_stays_json(client):
    response = await client.post("/nowhere", headers=HTML, json={})
    assert response.status_code == 404 and response.json()["code"] == "not_found"


async def test_the_login_page_says_the_user_signed_out(app, client):
    await register(client)
    browser = await browser_login(app)
    try:
        csrf = browser.cookies["ds_csrf"]
        out = await browser.post("/logout", data={"csrf_token": csrf})
        assert out.status_code == 303 and out.headers["location"] == "/login?signed_out=1"
        page = await browser.get(out.headers["location"])
    finally:
        await browser.aclose()
    assert page.status_code == 200 and "You have signed out." in page.text
    plain = await client.get("/login")
    assert "signed out" not in plain.text
    for value, words in (("all", "signed out everywhere"), ("deleted", "were deleted")):
        assert words in (await client.get(f"/login?signed_out={value}")).text
    assert "signed out" not in (await client.get("/login?signed_out=bogus")).text


def test_every_operation_has_a_human_summary_and_description(app):
    operations = [
        (method.upper(), path, operation)
        for path, item in app.openapi()["paths"].items()
        for method, operation in item.items()
    ]
    assert len(operations) > 30
    for method, path, operation in operations:
        summary, description = operation.get("summary", ""), operation.get("description", "")
        where = f"{method} {path}"
        assert summary and description, where
        assert summary != description, f"{where}: the description only repeats the summary"
        assert len(summary) <= 60 and summary[0].isupper(), f"{where}: {summary!r}"
        assert not summary.istitle() or len(summary.split()) == 1, where  # not "Get Blog"
        assert description.rstrip().endswith((".", ")", ":")), f"{where}: {description!r}"
