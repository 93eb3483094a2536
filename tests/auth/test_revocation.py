"""Remembered sessions save the database a query per request, and revocation stays
immediate: a signed-out, signed-out-everywhere, password-changed, disabled or deleted user's
token is refused on the very next request, by this process and by another one."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from contextlib import AsyncExitStack

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import event

from draftsmith.app import create_app
from draftsmith.auth import live
from tests.conftest import PASSWORD, _wipe_url, client_for, login, make_settings, register, run_sync
from tests.test_config_cli import cli, closed_port

KINDS = ["logout", "logout_all", "password", "disable", "delete"]
NEW_PASSWORD = "a brand new passphrase"


async def me(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})


def count_statements(app) -> list[str]:
    """Every statement the app sends from now on (its engine's, and the hot reads')."""
    statements: list[str] = []
    event.listen(
        app.state.engine.sync_engine, "before_cursor_execute", lambda *a: statements.append(a[2])
    )
    app.state.reads.observers.append(statements.append)
    return statements


async def test_a_remembered_session_costs_no_query(app, client, database_url):
    await register(client)
    token = (await login(client))["access_token"]
    assert (await me(client, token)).status_code == 200
    statements = count_statements(app)
    assert (await me(client, token)).status_code == 200
    # SQLite: its epoch file; PostgreSQL: it listens for revocations
    assert [s for s in statements if "refresh_families" in s] == []


async def test_a_process_not_listening_for_revocations_asks_the_database(app, client, database_url):
    """PostgreSQL without Redis: while the process cannot hear revocations (its listening
    connection lost), every request checks its session in the database."""
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite's processes learn of revocations from a file")
    await register(client)
    token = (await login(client))["access_token"]
    assert (await me(client, token)).status_code == 200
    app.state.signals._listening(False)  # what a lost connection does
    statements = count_statements(app)
    for _ in range(3):
        assert (await me(client, token)).status_code == 200
    # (the in-process worker may poll meanwhile: only the session checks are counted)
    assert len([s for s in statements if "refresh_families" in s]) == 3


def cli_env(settings) -> dict[str, str]:
    env = {
        "DRAFTSMITH_DATA_DIR": str(settings.data_dir),
        "DRAFTSMITH_DATABASE_URL": settings.database,
        "DRAFTSMITH_SECRET_KEY": settings.secret(),
    }
    if settings.redis_url:
        env["DRAFTSMITH_REDIS_URL"] = settings.redis_url
    return env


async def revoke(kind: str, client: httpx.AsyncClient, victim: str, settings, tmp_path) -> None:
    """Revoke the session of the token ``victim`` in the way named, through ``client``'s
    process (or the CLI: another process)."""
    bearer = {"Authorization": f"Bearer {victim}"}
    if kind == "logout":
        response = await client.post("/api/v1/auth/logout", headers=bearer)
    elif kind == "logout_all":
        other = (await login(client))["access_token"]
        response = await client.post(
            "/api/v1/auth/logout-all", headers={"Authorization": f"Bearer {other}"}
        )
    elif kind == "password":  # from another session: every other session is signed out
        other = (await login(client))["access_token"]
        response = await client.post(
            "/api/v1/auth/password",
            headers={"Authorization": f"Bearer {other}"},
            json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        )
    elif kind == "delete":
        response = await client.request(
            "DELETE", "/api/v1/auth/me", headers=bearer, json={"password": PASSWORD}
        )
    else:
        # in a thread: the app's loop keeps running (and finishes what it was writing)
        done = await asyncio.to_thread(
            cli, "user", "disable", "ada@example.com", cwd=tmp_path, env=cli_env(settings)
        )
        assert done.returncode == 0, done.stderr
        return
    assert response.status_code == 204, response.text


@pytest.mark.parametrize("kind", KINDS)
async def test_revocation_is_refused_on_the_next_request(app, client, kind, tmp_path):
    await register(client)
    token = (await login(client))["access_token"]
    for _ in range(2):  # the second answer comes from the process's memory (on SQLite)
        assert (await me(client, token)).status_code == 200
    await revoke(kind, client, token, app.state.settings, tmp_path)
    refused = await me(client, token)
    assert refused.status_code == 401, (kind, refused.text)
    assert refused.json()["code"] == "token_revoked"


async def two_apps(stack: AsyncExitStack, tmp_path, postgres_url, redis_url):
    """Two apps sharing PostgreSQL and Redis, nothing else (as two web processes do), and a
    client of each."""
    apps = []
    for name in ("first", "second"):
        app = create_app(make_settings(tmp_path / name, postgres_url, redis_url=redis_url))
        await stack.enter_async_context(app.router.lifespan_context(app))
        apps.append(app)
    stack.push_async_callback(_wipe_url, postgres_url)
    clients = [await stack.enter_async_context(client_for(app)) for app in apps]
    await _wipe_url(postgres_url)
    return apps, clients


@pytest.fixture(params=["redis", "notify"])
def broker(request) -> str | None:
    """What tells the web processes of a revocation: Redis's epochs, or, without Redis,
    PostgreSQL's NOTIFY."""
    return request.getfixturevalue("redis_url") if request.param == "redis" else None


@pytest.mark.parametrize("kind", KINDS)
async def test_revocation_reaches_another_web_process(tmp_path, postgres_url, broker, kind):
    """A revocation through the first app (or the CLI) is refused by the second, which
    remembered the session."""
    redis_url = broker
    async with AsyncExitStack() as stack:
        apps, (first, second) = await two_apps(stack, tmp_path, postgres_url, redis_url)
        await register(first)
        token = (await login(first))["access_token"]
        statements = count_statements(apps[1])
        for _ in range(2):
            assert (await me(second, token)).status_code == 200
        checks = [s for s in statements if "refresh_families" in s]
        assert len(checks) == 1  # the second answer came from the second app's memory
        await revoke(kind, first, token, apps[0].state.settings, tmp_path)
        refused = await me(second, token)
        assert refused.status_code == 401, (kind, refused.text)


async def test_a_revocation_after_redis_lost_the_epochs_reaches_another_process(
    tmp_path, postgres_url, redis_url
):
    """The epoch a process remembered must never come back: after Redis loses its keys (a
    flush by another test run on the same database, a restart without persistence), the
    CLI's next revocation must not publish the value an earlier one had (a counter would
    start again at 1, and the second app would keep trusting its memory)."""
    async with AsyncExitStack() as stack:
        apps, (first, second) = await two_apps(stack, tmp_path, postgres_url, redis_url)
        await register(first)
        kept, other = [(await login(first))["access_token"] for _ in range(2)]
        signed_out = await first.post(
            "/api/v1/auth/logout", headers={"Authorization": f"Bearer {other}"}
        )
        assert signed_out.status_code == 204  # the user's epoch is now the logout's
        for _ in range(2):  # remembered by the second app under that epoch
            assert (await me(second, kept)).status_code == 200
        redis = Redis.from_url(redis_url)
        await redis.flushdb()
        await redis.aclose()
        await revoke("disable", first, kept, apps[0].state.settings, tmp_path)
        refused = await me(second, kept)
        assert refused.status_code == 401, refused.text


def test_two_revocations_in_one_tick_of_the_file_clock_change_the_epoch(tmp_path, monkeypatch):
    """On a file system whose clock is coarser than the revocations (or two processes in one
    tick), the modification time alone would not change; the epoch must."""
    path = tmp_path / "draftsmith.db.auth-epoch"
    monkeypatch.setattr(live.time, "time_ns", lambda: 1_790_000_000_000_000_000)
    live.touch_epoch_file(path)
    before = live._file_epoch(path)
    live.touch_epoch_file(path)
    assert live._file_epoch(path) != before


def _serve(env: dict[str, str], port: int, log) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "draftsmith.cli", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def test_two_real_web_processes_refuse_a_revoked_token(tmp_path, postgres_url, broker):
    """Two ``draftsmith serve`` processes on PostgreSQL (and Redis, or not): a logout through
    one and a ``draftsmith user disable`` are refused at once by the other."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRAFTSMITH_")}
    env.update(
        DRAFTSMITH_DATA_DIR=str(tmp_path / "data"),
        DRAFTSMITH_DATABASE_URL=postgres_url,
        DRAFTSMITH_SECRET_KEY="revocation-secret-" + "k" * 30,
        DRAFTSMITH_LOG_LEVEL="warning",
    )
    if broker:
        env["DRAFTSMITH_REDIS_URL"] = broker
    ports = [closed_port(), closed_port()]
    with open(tmp_path / "serve.log", "w") as log:
        servers = [_serve(env, port, log) for port in ports]
        try:
            run_sync(_wipe_url, postgres_url)
            first, second = (httpx.Client(base_url=f"http://127.0.0.1:{p}") for p in ports)
            for client in (first, second):
                _wait_ready(client)
            body = {"email": "ada@example.com", "password": PASSWORD}
            assert first.post("/api/v1/auth/register", json=body).status_code == 201
            signed_out = first.post("/api/v1/auth/login", json=body).json()["access_token"]
            disabled = first.post("/api/v1/auth/login", json=body).json()["access_token"]

            def me_sync(client, token):
                headers = {"Authorization": f"Bearer {token}"}
                return client.get("/api/v1/auth/me", headers=headers).status_code

            assert [me_sync(second, t) for t in (signed_out, disabled) * 2] == [200] * 4
            headers = {"Authorization": f"Bearer {signed_out}"}
            assert first.post("/api/v1/auth/logout", headers=headers).status_code == 204
            assert me_sync(second, signed_out) == 401
            assert me_sync(second, disabled) == 200
            cli_env = {k: v for k, v in env.items() if k.startswith("DRAFTSMITH_")}
            done = cli("user", "disable", "ada@example.com", cwd=tmp_path, env=cli_env)
            assert done.returncode == 0, done.stderr
            assert me_sync(second, disabled) == 401 and me_sync(first, disabled) == 401
        finally:
            for server in servers:
                server.terminate()
                server.wait(timeout=30)
            run_sync(_wipe_url, postgres_url)
    assert "Traceback" not in (tmp_path / "serve.log").read_text()


def _wait_ready(client: httpx.Client) -> None:
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if client.get("/readyz").status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("the server did not start")
