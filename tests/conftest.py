"""Shared fixtures: real SQLite and PostgreSQL databases, the app, API and cookie clients."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import text

from draftsmith.app import create_app
from draftsmith.config import Settings
from draftsmith.migrate import upgrade
from draftsmith.models import metadata
from tests import corpus

IN_CI = os.environ.get("CI", "").lower() == "true"
PG_ADMIN_DSN = os.environ.get("DRAFTSMITH_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def _redis_url() -> str:
    """Database 15, or under pytest-xdist one database per worker (15, 14, ...): the tests
    flush it."""
    base = os.environ.get("DRAFTSMITH_TEST_REDIS", "redis://127.0.0.1:6379/15")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    server, _, database = base.rpartition("/")
    return f"{server}/{int(database or 15) - int(worker or 0)}"


REDIS_URL = _redis_url()
PASSWORD = "a sturdy test passphrase"


def run_sync(coroutine_function, *args):
    """Run a coroutine to completion from sync code, even while this thread has a running
    loop (Playwright's sync API keeps one), by giving it a thread of its own."""
    import threading

    outcome: dict = {}

    def work() -> None:
        try:
            outcome["value"] = asyncio.run(coroutine_function(*args))
        except BaseException as exc:  # re-raised in the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def service_missing(what: str, exc: BaseException) -> None:
    """Locally a test needing an absent service skips; under CI it fails."""
    message = f"{what} is not reachable: {exc}"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


async def admin(sql: str) -> None:
    """Run one statement as the PostgreSQL admin (CREATE/DROP DATABASE)."""
    connection = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


async def admin_fetch(sql: str, *args):
    """One value of a query run as the PostgreSQL admin."""
    connection = await asyncpg.connect(PG_ADMIN_DSN, timeout=5)
    try:
        return await connection.fetchval(sql, *args)
    finally:
        await connection.close()


async def terminate_backends(database_url: str, application_name: str) -> None:
    """Drop the database's connections of that name, as a server restart would."""
    await admin_fetch(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
        " WHERE application_name = $1 AND datname = $2",
        application_name,
        database_url.rsplit("/", 1)[1],
    )


@pytest.fixture(scope="session")
def postgres_url() -> str:
    name = f"draftsmith_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"

    try:
        run_sync(admin, f'CREATE DATABASE "{name}"')
    except (OSError, asyncpg.PostgresError) as exc:
        service_missing("PostgreSQL", exc)
    url = (
        PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
        + f"/{name}"
    )
    upgrade(url)
    yield url
    run_sync(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'draftsmith.db'}"
    upgrade(url)
    return url


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request) -> str:
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def redis_url() -> str:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
        client.flushdb()
    except redis.RedisError as exc:
        service_missing("Redis", exc)
    finally:
        client.close()
    return REDIS_URL


def make_settings(tmp_path: Path, database_url: str, **overrides) -> Settings:
    values = dict(
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key="test-secret-" + "x" * 40,
        base_url="http://testserver",
        login_limit_account="50/minute",
        login_limit_address="500/minute",
        register_limit_address="500/minute",
    )
    values.update(overrides)
    return Settings(_env_file=None, **values)


async def wipe(app) -> None:
    async with app.state.engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            await connection.execute(text(f"DELETE FROM {table.name}"))


@pytest.fixture
def settings_overrides() -> dict:
    """Tests override this fixture to change settings for their app."""
    return {}


@pytest.fixture
async def app(tmp_path, database_url, settings_overrides) -> AsyncIterator:
    application = create_app(make_settings(tmp_path, database_url, **settings_overrides))
    async with application.router.lifespan_context(application):
        await wipe(application)
        yield application
        await wipe(application)


def client_for(app, **kwargs) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver", **kwargs
    )


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as c:
        yield c


async def register(
    client: httpx.AsyncClient, email: str = "ada@example.com", password: str = PASSWORD
) -> dict:
    response = await client.post(
        "/api/v1/auth/register", json={"email": email, "password": password}
    )
    assert response.status_code == 201, response.text
    return response.json()


async def login(
    client: httpx.AsyncClient, email: str = "ada@example.com", password: str = PASSWORD
) -> dict:
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return response.json()


class ApiUser:
    """A registered user with a bearer token."""

    def __init__(self, client: httpx.AsyncClient, email: str, tokens: dict) -> None:
        self.client = client
        self.email = email
        self.tokens = tokens

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens['access_token']}"}

    async def request(self, method: str, url: str, **kwargs) -> httpx.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return await self.client.request(method, url, headers=headers, **kwargs)

    async def get(self, url: str, **kwargs) -> httpx.Response:
        return await self.request("GET", url, **kwargs)

    async def post(self, url: str, **kwargs) -> httpx.Response:
        return await self.request("POST", url, **kwargs)


async def make_user(client: httpx.AsyncClient, email: str = "ada@example.com") -> ApiUser:
    await register(client, email)
    return ApiUser(client, email, await login(client, email))


@pytest.fixture
async def user(client) -> ApiUser:
    return await make_user(client)


async def browser_login(
    app, email: str = "ada@example.com", password: str = PASSWORD
) -> httpx.AsyncClient:
    """A cookie-session client signed in through the HTML form, like a browser."""
    browser = client_for(app, headers={"Origin": "http://testserver"})
    page = await browser.get("/login")
    csrf = browser.cookies["ds_csrf"]
    assert f'value="{csrf}"' in page.text
    response = await browser.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf, "next": "/dashboard"},
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/dashboard"
    return browser


class LiveServer:
    """The app served by uvicorn on a loopback port, in a background thread."""

    def __init__(self, app) -> None:
        import socket
        import threading

        import uvicorn

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        import time

        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the live server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)


@pytest.fixture
def live_server(tmp_path, sqlite_url, settings_overrides):
    """A real HTTP server over the SQLite database (its own event loop and thread)."""
    application = create_app(
        make_settings(tmp_path, sqlite_url, base_url="http://127.0.0.1", **settings_overrides)
    )
    with LiveServer(application) as server:
        run_sync(_wipe_url, sqlite_url)
        yield server
    run_sync(_wipe_url, sqlite_url)


async def _wipe_url(url: str) -> None:
    from draftsmith.db import create_engine

    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            for table in reversed(metadata.sorted_tables):
                await connection.execute(text(f"DELETE FROM {table.name}"))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def _openai_server_session():
    from tests.fakes.openai_server import FakeOpenAIServer

    server = FakeOpenAIServer().start()
    yield server
    server.stop()


@pytest.fixture
def openai_server(_openai_server_session):
    """A running fake OpenAI-compatible server (real HTTP on 127.0.0.1), reset for each test
    (and the structured-output modes the process learnt of it forgotten)."""
    from draftsmith.generation.llm import structured

    _openai_server_session.reset()
    structured.forget_all()
    yield _openai_server_session
    _openai_server_session.reset()
    structured.forget_all()


#: argon2 at its lowest cost for the tests that do not measure it: the same hasher and code
#: path, a millisecond instead of ~0.15 s for each of the thousand sign-ups and sign-ins.
#: Processes the tests start (servers, the CLI) keep the real cost.
CHEAP_HASHER = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))
_CHEAP_DUMMY = CHEAP_HASHER.hash("timing-equaliser")


@pytest.fixture(autouse=True)
def _cheap_password_hashing(request, monkeypatch):
    if request.node.get_closest_marker("full_hash_cost"):
        return
    from draftsmith.auth import passwords

    monkeypatch.setattr(passwords, "hasher", CHEAP_HASHER)
    monkeypatch.setattr(passwords, "_DUMMY_HASH", _CHEAP_DUMMY)


def pytest_configure(config):
    if IN_CI and corpus.EXPLICIT and not corpus.AVAILABLE:
        raise pytest.UsageError(
            f"{corpus.ENV}={corpus.CORPUS} does not exist: the corpus suite cannot run."
        )


def pytest_collection_modifyitems(config, items):
    """Browser tests last (each file's Playwright keeps an event loop running in the main
    thread while it runs; see tests/e2e/conftest.py). Without a corpus, the corpus suite is
    deselected (one line in the summary, not one per test)."""
    items.sort(key=lambda item: "/tests/e2e/" in str(item.fspath))
    marked = [item for item in items if item.get_closest_marker("corpus")]
    config.stash[_CORPUS_TESTS] = len(marked)
    if marked and not corpus.AVAILABLE:
        items[:] = [item for item in items if not item.get_closest_marker("corpus")]
        config.hook.pytest_deselected(items=marked)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    count = config.stash.get(_CORPUS_TESTS, 0)
    if not count and config.pluginmanager.has_plugin("dsession"):
        # the xdist controller collects nothing: count the corpus tests its workers reported
        reports = [r for rs in terminalreporter.stats.values() for r in rs]
        count = sum(
            1 for r in reports if getattr(r, "when", None) == "call" and "corpus" in r.keywords
        )
        if not count and not corpus.AVAILABLE:
            count = -1  # deselected on the workers
    if not count:
        return
    if corpus.AVAILABLE:
        terminalreporter.write_line(f"corpus suite: {count} tests over {corpus.CORPUS}")
    else:
        deselected = f"{count} tests deselected, " if count > 0 else ""
        terminalreporter.write_line(
            f"corpus suite skipped: {deselected}no corpus at {corpus.CORPUS} (set {corpus.ENV})",
            yellow=True,
        )


_CORPUS_TESTS = pytest.StashKey[int]()
