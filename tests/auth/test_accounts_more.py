"""Password rehashing, family lifetime, and secrets kept out of logs."""

from __future__ import annotations

import logging
from datetime import timedelta

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import select, update

from draftsmith.auth.models import RefreshFamily, User
from draftsmith.db import utcnow
from tests.conftest import PASSWORD, login, register


async def test_login_rehashes_when_parameters_change(app, client):
    await register(client)
    weak = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=8192),)).hash(PASSWORD)
    async with app.state.db() as db:
        await db.execute(update(User).values(password_hash=weak))
        await db.commit()
    await login(client)
    async with app.state.db() as db:
        stored = await db.scalar(select(User.password_hash))
    assert stored != weak and "m=8192" not in stored and stored.startswith("$argon2id$")
    await login(client)  # the new hash verifies


async def test_a_refresh_family_dies_after_its_lifetime(app, client):
    await register(client)
    tokens = await login(client)
    async with app.state.db() as db:
        family = await db.scalar(select(RefreshFamily))
        assert (
            timedelta(days=29, hours=23)
            < family.expires_at - family.created_at
            <= timedelta(days=30)
        )
        await db.execute(update(RefreshFamily).values(expires_at=utcnow() - timedelta(seconds=1)))
        await db.commit()
    response = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert response.status_code == 401 and response.json()["code"] == "session_expired"
    me = await client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert me.status_code == 401


async def test_tokens_and_passwords_never_reach_the_logs(app, client, caplog):
    caplog.set_level(logging.DEBUG)
    await register(client)
    tokens = await login(client)
    refreshed = (
        await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    ).json()
    await client.post(
        "/api/v1/auth/login", json={"email": "ada@example.com", "password": "wrong but secret!"}
    )
    await client.get(
        "/api/v1/auth/me",
        headers={"Authorization": "Bearer " + refreshed["access_token"][:-3] + "abc"},
    )
    text = caplog.text
    for secret in (
        PASSWORD,
        "wrong but secret!",
        tokens["access_token"],
        tokens["refresh_token"],
        refreshed["access_token"],
    ):
        assert secret not in text


async def test_token_responses_are_not_cached(client):
    await register(client)
    response = await client.post(
        "/api/v1/auth/login", json={"email": "ada@example.com", "password": PASSWORD}
    )
    assert response.headers["cache-control"] == "no-store"
