"""Security headers, the error shape and request limits on every response."""

from __future__ import annotations

import pytest

from tests.conftest import client_for, make_settings


async def test_security_headers_everywhere(client):
    for path in ("/healthz", "/login", "/api/v1/auth/me", "/nope"):
        response = await client.get(path)
        csp = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "'nonce-" in csp and "unsafe-inline" not in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
        assert response.headers["cross-origin-opener-policy"] == "same-origin"
        assert "strict-transport-security" not in response.headers


async def test_nonce_changes_per_request_and_matches_scripts(client):
    first = await client.get("/login")
    second = await client.get("/login")
    nonce = first.headers["content-security-policy"].split("'nonce-")[1].split("'")[0]
    assert f'nonce="{nonce}"' in first.text
    assert nonce not in second.headers["content-security-policy"]


async def test_hsts_and_host_prefixed_cookies_under_https(tmp_path, sqlite_url):
    from draftsmith.app import create_app

    app = create_app(make_settings(tmp_path, sqlite_url, base_url="https://drafts.example"))
    async with app.router.lifespan_context(app):
        async with client_for(app) as client:
            response = await client.get("/login")
    assert "max-age" in response.headers["strict-transport-security"]
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("__Host-ds_csrf=") and "Secure" in cookie and "Path=/" in cookie


async def test_errors_are_json_with_a_code(client):
    missing = await client.get("/api/v1/nothing-here")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    wrong_method = await client.delete("/api/v1/auth/login")
    assert wrong_method.status_code == 405 and wrong_method.json()["code"] == "method_not_allowed"
    invalid = await client.post(
        "/api/v1/auth/login", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert invalid.status_code == 422 and invalid.json()["code"] == "validation_error"


async def test_validation_errors_do_not_echo_passwords(client):
    response = await client.post(
        "/api/v1/auth/register", json={"email": "not-an-email", "password": "s3cret-value-xyz"}
    )
    assert response.status_code == 422
    assert "s3cret-value-xyz" not in response.text


@pytest.mark.parametrize("chunked", [False, True])
async def test_json_body_limit(client, chunked):
    body = b'{"email": "a@b.c", "password": "' + b"x" * (3 * 1024 * 1024) + b'"}'
    if chunked:

        async def stream():
            for i in range(0, len(body), 65536):
                yield body[i : i + 65536]

        response = await client.post(
            "/api/v1/auth/login", content=stream(), headers={"content-type": "application/json"}
        )
    else:
        response = await client.post(
            "/api/v1/auth/login", content=body, headers={"content-type": "application/json"}
        )
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


async def test_readyz_reports_components(client):
    response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["components"]["database"] == "ok"


async def test_docs_are_served_locally(client):
    page = await client.get("/docs")
    assert "/static/swagger/swagger-ui-bundle.js" in page.text
    assert (await client.get("/static/swagger/swagger-ui-bundle.js")).status_code == 200
    assert "cdn" not in page.text.lower()
