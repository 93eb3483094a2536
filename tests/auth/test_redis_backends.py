"""With REDIS_URL set, the denylist and login limits live in the real Redis."""

from __future__ import annotations

import jwt
import pytest
import redis.asyncio as aioredis

from tests.conftest import PASSWORD, client_for, login, make_settings, register


@pytest.fixture
async def redis_app(tmp_path, sqlite_url, redis_url):
    from draftsmith.app import create_app
    from tests.conftest import wipe

    app = create_app(
        make_settings(tmp_path, sqlite_url, redis_url=redis_url, login_limit_account="2/minute")
    )
    async with app.router.lifespan_context(app):
        await wipe(app)
        yield app
        await wipe(app)


async def test_logout_denylist_is_in_redis(redis_app, redis_url):
    async with client_for(redis_app) as client:
        await register(client)
        tokens = await login(client)
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        assert (await client.post("/api/v1/auth/logout", headers=headers)).status_code == 204
        jti = jwt.decode(tokens["access_token"], options={"verify_signature": False})["jti"]
        r = aioredis.Redis.from_url(redis_url)
        try:
            ttl = await r.ttl(f"draftsmith:denied-jti:{jti}")
        finally:
            await r.aclose()
        assert 0 < ttl <= 15 * 60 + 1
        assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 401


async def test_login_limit_is_shared_through_redis(redis_app, tmp_path, sqlite_url, redis_url):
    from draftsmith.app import create_app

    async with client_for(redis_app) as client:
        await register(client)
        for _ in range(2):
            r = await client.post(
                "/api/v1/auth/login",
                json={"email": "ada@example.com", "password": "wrong password!"},
            )
            assert r.status_code == 401
    # a second app instance (another server process) sees the same counter
    other = create_app(
        make_settings(
            tmp_path / "b", sqlite_url, redis_url=redis_url, login_limit_account="2/minute"
        )
    )
    async with other.router.lifespan_context(other), client_for(other) as client:
        r = await client.post(
            "/api/v1/auth/login", json={"email": "ada@example.com", "password": PASSWORD}
        )
        assert r.status_code == 429 and "retry-after" in r.headers


async def test_readyz_includes_redis(redis_app):
    async with client_for(redis_app) as client:
        body = (await client.get("/readyz")).json()
    assert body["components"] == {"database": "ok", "redis": "ok"}


async def test_session_check_logs_a_redis_outage_once_not_per_request(app, client, caplog):
    """While Redis is away every request still checks its session, in the database (the
    process's memory is not trusted, as revocations cannot reach it); one warning says so."""
    import logging
    import socket

    from redis.asyncio import Redis

    from draftsmith.auth.live import LiveSessions

    await register(client)
    claims = jwt.decode((await login(client))["access_token"], options={"verify_signature": False})
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sessions = LiveSessions(Redis(port=port, socket_connect_timeout=0.2), None, remember=True)
    statements = []

    def record(statement: str) -> None:
        if "refresh_families" in statement:  # only the session checks
            statements.append(statement)

    app.state.reads.observers.append(record)
    with caplog.at_level(logging.INFO, logger="draftsmith.outage"):
        for _ in range(20):
            account = await sessions.user(
                app.state.reads, claims["sub"], claims["sid"], claims["jti"]
            )
            assert account is not None and account.email == "ada@example.com"
    assert len(statements) == 20
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "token denylist" in warnings[0].getMessage()
    assert sessions.outage.down
