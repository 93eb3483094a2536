"""Attack cases against the one authentication path."""

from __future__ import annotations

import asyncio
import base64
import json
import time

import jwt
import pytest

from draftsmith.auth import tokens
from tests.conftest import PASSWORD, browser_login, client_for, login, make_user, register

SECRET = "test-secret-" + "x" * 40


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


async def me(client, token: str):
    return await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})


def assert_401(response, code: str | None = None):
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith("Bearer")
    body = response.json()
    assert set(body) == {"detail", "code"}
    if code:
        assert body["code"] == code, body


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
async def test_alg_none_is_rejected(client, user, alg):
    payload = claims_of(user.tokens["access_token"])
    forged = f"{b64({'alg': alg, 'typ': 'JWT'})}.{b64(payload)}."
    assert_401(await me(client, forged), "invalid_token")


async def test_edited_payload_with_old_signature_is_rejected(client, user):
    other = await make_user(client, "eve@example.com")
    header, _, signature = user.tokens["access_token"].split(".")
    payload = claims_of(user.tokens["access_token"])
    payload["sub"] = claims_of(other.tokens["access_token"])["sub"]
    assert_401(await me(client, f"{header}.{b64(payload)}.{signature}"), "invalid_token")


async def test_token_signed_with_another_key_is_rejected(client, user):
    payload = claims_of(user.tokens["access_token"])
    forged = jwt.encode(payload, "another-key-" + "y" * 40, algorithm="HS256")
    assert_401(await me(client, forged), "invalid_token")


async def test_expired_token_is_rejected(client, user):
    payload = claims_of(user.tokens["access_token"])
    payload["exp"] = int(time.time()) - 10
    expired = jwt.encode(payload, SECRET, algorithm="HS256")
    assert_401(await me(client, expired), "token_expired")


@pytest.mark.parametrize("missing", ["jti", "aud", "iss", "typ", "sid", "iat"])
async def test_required_claims_are_enforced(client, user, missing):
    payload = claims_of(user.tokens["access_token"])
    del payload[missing]
    assert_401(await me(client, jwt.encode(payload, SECRET, algorithm="HS256")), "invalid_token")


async def test_wrong_type_claim_is_rejected(client, user):
    payload = claims_of(user.tokens["access_token"]) | {"typ": "refresh"}
    assert_401(await me(client, jwt.encode(payload, SECRET, algorithm="HS256")), "invalid_token")


async def test_refresh_token_is_not_an_access_token(client, user):
    assert_401(await me(client, user.tokens["refresh_token"]), "invalid_token")


async def test_token_in_query_string_is_ignored(client, user):
    token = user.tokens["access_token"]
    assert_401(await client.get(f"/api/v1/auth/me?access_token={token}"), "not_authenticated")
    assert_401(await client.get(f"/api/v1/auth/me?token={token}"), "not_authenticated")


@pytest.mark.parametrize(
    "header", ["Basic YTpi", "Bearer", "Bearer ", "Token abc", "bearer garbage"]
)
async def test_invalid_header_never_falls_back_to_the_cookie(app, header):
    await register(client_for(app))
    browser = await browser_login(app)
    assert (await browser.get("/api/v1/auth/me")).status_code == 200
    response = await browser.get("/api/v1/auth/me", headers={"Authorization": header})
    assert_401(response)


async def test_valid_token_works(client, user):
    response = await me(client, user.tokens["access_token"])
    assert response.status_code == 200
    assert response.json()["email"] == "ada@example.com"
    assert response.headers["cache-control"] == "no-store"


async def test_refresh_rotates_and_reuse_revokes_the_family(client, user):
    first = user.tokens["refresh_token"]
    rotated = await client.post("/api/v1/auth/refresh", json={"refresh_token": first})
    assert rotated.status_code == 200
    newest = rotated.json()
    assert newest["refresh_token"] != first and newest["token_type"] == "bearer"
    assert (await me(client, newest["access_token"])).status_code == 200

    # the rotated token is presented again (after the race grace): the whole family dies
    from draftsmith.auth import service

    service_grace, service.RACE_GRACE = service.RACE_GRACE, service.RACE_GRACE * 0
    try:
        reuse = await client.post("/api/v1/auth/refresh", json={"refresh_token": first})
    finally:
        service.RACE_GRACE = service_grace
    assert reuse.status_code == 401 and reuse.json()["code"] == "token_reused"
    again = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": newest["refresh_token"]}
    )
    assert again.status_code == 401 and again.json()["code"] == "token_revoked"
    assert_401(await me(client, newest["access_token"]), "token_revoked")


async def test_concurrent_refresh_exactly_one_wins(client, user):
    token = user.tokens["refresh_token"]
    results = await asyncio.gather(
        *[client.post("/api/v1/auth/refresh", json={"refresh_token": token}) for _ in range(5)]
    )
    statuses = sorted(r.status_code for r in results)
    assert statuses == [200, 401, 401, 401, 401], [r.text for r in results]
    winner = next(r.json() for r in results if r.status_code == 200)
    assert (await me(client, winner["access_token"])).status_code == 200
    assert (
        await client.post("/api/v1/auth/refresh", json={"refresh_token": winner["refresh_token"]})
    ).status_code == 200


async def test_unknown_refresh_token(client):
    response = await client.post("/api/v1/auth/refresh", json={"refresh_token": "nope"})
    assert response.status_code == 401 and response.json()["code"] == "invalid_refresh_token"


async def test_logout_revokes_access_and_refresh(client, user):
    response = await user.post("/api/v1/auth/logout")
    assert response.status_code == 204
    assert_401(await me(client, user.tokens["access_token"]), "token_revoked")
    refresh = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": user.tokens["refresh_token"]}
    )
    assert refresh.status_code == 401


async def test_unknown_email_and_wrong_password_answer_alike(client, user):
    unknown = await client.post(
        "/api/v1/auth/login", json={"email": "nobody@example.com", "password": PASSWORD}
    )
    wrong = await client.post(
        "/api/v1/auth/login", json={"email": "ada@example.com", "password": PASSWORD + "!"}
    )
    assert unknown.status_code == wrong.status_code == 401
    assert (
        unknown.json()
        == wrong.json()
        == {"detail": "Wrong email or password.", "code": "invalid_credentials"}
    )


@pytest.mark.full_hash_cost
async def test_unknown_email_costs_a_full_hash_check():
    from draftsmith.auth import passwords

    stored = await passwords.hash_password(PASSWORD)
    rounds = 5
    start = time.perf_counter()
    for _ in range(rounds):
        await passwords.verify_password(PASSWORD + "x", stored)
    known = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(rounds):
        await passwords.verify_password(PASSWORD + "x", None)
    unknown = time.perf_counter() - start
    assert 0.5 < unknown / known < 2.0, (known, unknown)


@pytest.mark.parametrize(
    "password,code",
    [
        ("short", "weak_password"),
        ("password1234", "weak_password"),
        ("123456789012", "weak_password"),
        ("aaaaaaaaaaaaaaaa", "weak_password"),
        ("qwertyuiop123", "weak_password"),
    ],
)
async def test_weak_passwords_are_refused(client, password, code):
    response = await client.post(
        "/api/v1/auth/register", json={"email": "w@example.com", "password": password}
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == code


async def test_huge_password_is_a_fast_4xx(client, user):
    huge = "x" * (1024 * 1024)
    for path in ("/api/v1/auth/register", "/api/v1/auth/login"):
        start = time.perf_counter()
        response = await client.post(path, json={"email": "ada@example.com", "password": huge})
        assert 400 <= response.status_code < 500
        assert time.perf_counter() - start < 1.0
        assert huge not in response.text


async def test_password_of_257_chars_is_refused_without_hashing(client):
    response = await client.post(
        "/api/v1/auth/register", json={"email": "l@example.com", "password": "Zq9!" * 65}
    )
    assert response.status_code == 422 and response.json()["code"] == "weak_password"


async def test_duplicate_email(client, user):
    response = await client.post(
        "/api/v1/auth/register", json={"email": "ADA@example.com", "password": PASSWORD}
    )
    assert response.status_code == 409 and response.json()["code"] == "email_taken"


@pytest.fixture
def settings_overrides():
    return {"login_limit_account": "3/minute", "login_limit_address": "6/minute"}


async def test_rate_limit_per_account(client, user):
    for _ in range(3):
        wrong = await client.post(
            "/api/v1/auth/login", json={"email": "ada@example.com", "password": "wrong password!!"}
        )
        assert wrong.status_code == 401
    limited = await client.post(
        "/api/v1/auth/login", json={"email": "ada@example.com", "password": PASSWORD}
    )
    assert limited.status_code == 429
    assert limited.json()["code"] == "rate_limited"
    assert 1 <= int(limited.headers["retry-after"]) <= 60


async def test_rate_limit_per_address(client, user):
    statuses = []
    for i in range(8):
        r = await client.post(
            "/api/v1/auth/login",
            json={"email": f"u{i}@example.com", "password": "wrong password!!"},
        )
        statuses.append(r.status_code)
    assert statuses[:5] == [401] * 5  # one attempt was used by the `user` fixture
    assert 429 in statuses[5:]


async def test_oauth2_password_form(client, user):
    response = await client.post(
        "/api/v1/auth/token", data={"username": "ada@example.com", "password": PASSWORD}
    )
    assert response.status_code == 200
    assert (await me(client, response.json()["access_token"])).status_code == 200


async def test_change_password_revokes_other_sessions(client, user):
    other = await login(client)
    response = await user.post(
        "/api/v1/auth/password",
        json={"current_password": PASSWORD, "new_password": "a brand new passphrase"},
    )
    assert response.status_code == 204
    assert (await me(client, user.tokens["access_token"])).status_code == 200  # this session lives
    assert_401(await me(client, other["access_token"]), "token_revoked")
    old = await client.post(
        "/api/v1/auth/login", json={"email": "ada@example.com", "password": PASSWORD}
    )
    assert old.status_code == 401
    wrong = await user.post(
        "/api/v1/auth/password",
        json={"current_password": "not the password", "new_password": "another passphrase!"},
    )
    assert wrong.status_code == 400 and wrong.json()["code"] == "wrong_password"


def test_decoding_pins_the_algorithm():
    token, _ = tokens.issue_access_token(SECRET, "u", "s", 60)
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    hs512 = jwt.encode(claims_of(token), SECRET, algorithm="HS512")
    with pytest.raises(tokens.InvalidToken):
        tokens.decode_access_token(SECRET, hs512)


async def test_registrations_are_rate_limited_per_address(tmp_path, sqlite_url):
    from draftsmith.app import create_app
    from tests.conftest import client_for, make_settings, wipe

    app = create_app(make_settings(tmp_path, sqlite_url, register_limit_address="2/hour"))
    async with app.router.lifespan_context(app):
        await wipe(app)
        async with client_for(app) as client:
            for i in range(2):
                response = await client.post(
                    "/api/v1/auth/register",
                    json={"email": f"r{i}@example.com", "password": PASSWORD},
                )
                assert response.status_code == 201
            limited = await client.post(
                "/api/v1/auth/register", json={"email": "r9@example.com", "password": PASSWORD}
            )
            assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0
            assert "registration" in limited.json()["detail"]
        await wipe(app)
