"""The cookie session of the browser: login CSRF, origin checks, renewal, sign-out."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import PASSWORD, browser_login, client_for, register


@pytest.fixture
async def registered(app):
    async with client_for(app) as c:
        await register(c)


async def test_login_sets_the_contract_cookies(app, registered):
    browser = await browser_login(app)
    jar = {cookie.name: cookie for cookie in browser.cookies.jar}
    assert {"ds_access", "ds_refresh", "ds_csrf"} <= set(jar)
    assert jar["ds_access"].has_nonstandard_attr("HttpOnly")
    assert jar["ds_refresh"].has_nonstandard_attr("HttpOnly")
    assert not jar["ds_csrf"].has_nonstandard_attr("HttpOnly")
    page = await browser.get("/dashboard")
    assert page.status_code == 200
    assert "Welcome" in page.text and "ada@example.com" in page.text
    assert "eyJ" not in page.text  # no token rendered into the page


async def test_login_without_csrf_token_is_refused(app, registered):
    browser = client_for(app, headers={"Origin": "http://testserver"})
    await browser.get("/login")
    response = await browser.post("/login", data={"email": "ada@example.com", "password": PASSWORD})
    assert response.status_code == 403
    assert "ds_access" not in browser.cookies
    forged = await browser.post(
        "/login", data={"email": "ada@example.com", "password": PASSWORD, "csrf_token": "abc.def"}
    )
    assert forged.status_code == 403


async def test_login_from_a_foreign_origin_is_refused(app, registered):
    browser = client_for(app, headers={"Origin": "https://evil.example"})
    await browser.get("/login")
    response = await browser.post(
        "/login",
        data={
            "email": "ada@example.com",
            "password": PASSWORD,
            "csrf_token": browser.cookies["ds_csrf"],
        },
    )
    assert response.status_code == 403
    assert "ds_access" not in browser.cookies


async def test_cookie_unsafe_request_from_a_foreign_origin_is_refused(app, registered):
    browser = await browser_login(app)
    csrf = browser.cookies["ds_csrf"]
    response = await browser.post(
        "/api/v1/auth/logout", headers={"X-CSRF-Token": csrf, "Origin": "https://evil.example"}
    )
    assert response.status_code == 403 and response.json()["code"] == "csrf_origin"
    no_origin = client_for(app, cookies=browser.cookies)
    response = await no_origin.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    assert response.status_code == 403
    # a same-origin Referer is accepted in place of Origin
    response = await no_origin.post(
        "/api/v1/auth/logout",
        headers={"X-CSRF-Token": csrf, "Referer": "http://testserver/dashboard"},
    )
    assert response.status_code == 204


async def test_csrf_token_from_another_session_is_refused(app, registered):
    first = await browser_login(app)
    second = await browser_login(app)
    response = await second.post(
        "/api/v1/auth/logout", headers={"X-CSRF-Token": first.cookies["ds_csrf"]}
    )
    assert response.status_code == 403 and response.json()["code"] == "csrf_failed"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "http:/evil",
        "javascript:alert(1)",
        "\\\\evil",
    ],
)
async def test_next_cannot_point_off_site(app, registered, target):
    browser = client_for(app, headers={"Origin": "http://testserver"})
    page = await browser.get("/login", params={"next": target})
    assert "evil" not in page.text and "javascript" not in page.text
    response = await browser.post(
        "/login",
        data={
            "email": "ada@example.com",
            "password": PASSWORD,
            "csrf_token": browser.cookies["ds_csrf"],
            "next": target,
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/dashboard"


async def test_next_keeps_local_paths(app, registered):
    anonymous = client_for(app)
    visit = await anonymous.get("/dashboard?tab=blogs")
    assert visit.status_code == 303
    assert visit.headers["location"] == "/login?next=%2Fdashboard%3Ftab%3Dblogs"
    browser = client_for(app, headers={"Origin": "http://testserver"})
    await browser.get("/login")
    response = await browser.post(
        "/login",
        data={
            "email": "ada@example.com",
            "password": PASSWORD,
            "csrf_token": browser.cookies["ds_csrf"],
            "next": "/dashboard?tab=blogs",
        },
    )
    assert response.headers["location"] == "/dashboard?tab=blogs"


async def test_wrong_password_in_the_form_shows_an_error(app, registered):
    browser = client_for(app, headers={"Origin": "http://testserver"})
    await browser.get("/login")
    response = await browser.post(
        "/login",
        data={
            "email": "ada@example.com",
            "password": "not my password",
            "csrf_token": browser.cookies["ds_csrf"],
        },
    )
    assert response.status_code == 401
    assert "Wrong email or password." in response.text


@pytest.fixture
def settings_overrides():
    return {"access_token_ttl_s": 1}


async def test_expired_access_cookie_is_renewed_silently(app, registered):
    browser = await browser_login(app)
    old_access = browser.cookies["ds_access"]
    old_refresh = browser.cookies["ds_refresh"]
    await asyncio.sleep(2.1)
    response = await browser.get("/api/v1/auth/me")
    assert response.status_code == 200
    assert browser.cookies["ds_access"] != old_access
    assert browser.cookies["ds_refresh"] != old_refresh
    # and unsafe requests keep working with the same CSRF token (bound to the session)
    csrf = browser.cookies["ds_csrf"]
    await asyncio.sleep(2.1)
    response = await browser.post("/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    assert response.status_code == 204


async def test_parallel_renewals_do_not_sign_the_user_out(app, registered):
    browser = await browser_login(app)
    await asyncio.sleep(2.1)
    results = await asyncio.gather(*[browser.get("/api/v1/auth/me") for _ in range(4)])
    assert [r.status_code for r in results] == [200] * 4
    await asyncio.sleep(0.1)
    assert (await browser.get("/api/v1/auth/me")).status_code == 200


async def test_web_sign_out(app, registered):
    browser = await browser_login(app)
    response = await browser.post("/logout", data={"csrf_token": browser.cookies["ds_csrf"]})
    assert response.status_code == 303 and response.headers["location"] == "/login?signed_out=1"
    assert "ds_access" not in browser.cookies
    after = await browser.get("/dashboard")
    assert after.status_code == 303 and after.headers["location"].startswith("/login?next=")


async def test_register_through_the_form(app):
    browser = client_for(app, headers={"Origin": "http://testserver"})
    page = await browser.get("/register")
    assert 'for="email"' in page.text and "Create account" in page.text
    weak = await browser.post(
        "/register",
        data={
            "email": "new@example.com",
            "password": "password1234",
            "csrf_token": browser.cookies["ds_csrf"],
        },
    )
    assert weak.status_code == 422 and "too common" in weak.text
    response = await browser.post(
        "/register",
        data={
            "email": "new@example.com",
            "password": PASSWORD,
            "display_name": "Neo",
            "csrf_token": browser.cookies["ds_csrf"],
        },
    )
    assert response.status_code == 303
    assert "Welcome, Neo" in (await browser.get("/dashboard")).text
