"""Permissions-Policy and Cross-Origin-Resource-Policy everywhere; Clear-Site-Data on sign-out."""

from __future__ import annotations

import pytest

from tests.conftest import browser_login

DENIED = ("camera", "microphone", "geolocation", "payment", "usb", "serial", "bluetooth")
SIGNED_OUT = '"cookies", "storage"'


@pytest.fixture
def database_url(sqlite_url):
    return sqlite_url


@pytest.mark.parametrize(
    "path", ["/login", "/healthz", "/api/v1/auth/me", "/static/app.css", "/no/such/page"]
)
async def test_every_answer_denies_unused_features_and_cross_origin_reads(client, path):
    response = await client.get(path)
    policy = {
        part.strip().split("=")[0]: part.strip().split("=")[1]
        for part in response.headers["permissions-policy"].split(",")
    }
    assert all(policy[feature] == "()" for feature in DENIED), policy
    assert response.headers["cross-origin-resource-policy"] == "same-origin"
    assert "clear-site-data" not in response.headers


async def test_api_logout_clears_site_data(client, user):
    response = await user.post("/api/v1/auth/logout")
    assert response.status_code == 204
    assert response.headers["clear-site-data"] == SIGNED_OUT


async def test_browser_logout_clears_site_data_and_cookies(app, client, user):
    browser = await browser_login(app)
    response = await browser.post("/logout", data={"csrf_token": browser.cookies["ds_csrf"]})
    assert response.status_code == 303 and response.headers["location"] == "/login?signed_out=1"
    assert response.headers["clear-site-data"] == SIGNED_OUT
    cleared = [c.split("=")[0] for c in response.headers.get_list("set-cookie")]
    assert sorted(cleared) == ["ds_access", "ds_csrf", "ds_refresh"]
    assert (await browser.get("/api/v1/auth/me")).status_code == 401


async def test_signing_in_does_not_clear_site_data(app, client, user):
    browser = await browser_login(app)
    assert "clear-site-data" not in (await browser.get("/dashboard")).headers
