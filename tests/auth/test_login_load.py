"""A sign-in cannot stall the server, and guessing cannot lock the owner out."""

from __future__ import annotations

import asyncio
import statistics
import time
import weakref

import httpx
import pytest

from draftsmith.auth import passwords
from tests.conftest import PASSWORD, register

WRONG = {"email": "ada@example.com", "password": "not the password"}

pytestmark = pytest.mark.full_hash_cost  # these measure what hashing costs the server


@pytest.fixture
def database_url(sqlite_url):
    """Rate limits and hashing do not depend on the database: SQLite only."""
    return sqlite_url


def client_at(app, address: str) -> httpx.AsyncClient:
    """A client whose requests come from ``address`` (what ``client_address`` reads)."""
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_wrong_password_logins_do_not_stall_other_requests(live_server):
    """While a burst of wrong-password logins hash on a real server, /healthz stays quick
    (with argon2 on the event loop, each probe waited for one or more whole hashes)."""
    async with httpx.AsyncClient(base_url=live_server.url, timeout=60) as client:
        await register(client)
        logins = [
            asyncio.create_task(client.post("/api/v1/auth/login", json=WRONG)) for _ in range(10)
        ]
        latencies = []
        while not all(task.done() for task in logins):
            started = time.perf_counter()
            assert (await client.get("/healthz")).status_code == 200
            latencies.append(time.perf_counter() - started)
            await asyncio.sleep(0.02)
        statuses = [task.result().status_code for task in logins]
    assert statuses == [401] * 10
    assert len(latencies) >= 5, "the logins ended before /healthz could be sampled"
    assert statistics.median(latencies) < 0.1 and max(latencies) < 0.5, latencies


async def test_past_the_hashing_slots_a_login_waits_briefly_then_gets_503(app, client, monkeypatch):
    await register(client)
    monkeypatch.setattr(passwords, "SLOTS", 1)
    monkeypatch.setattr(passwords, "MAX_WAIT_S", 0.01)
    monkeypatch.setattr(passwords, "_slots", weakref.WeakKeyDictionary())
    answers = await asyncio.gather(
        *(client.post("/api/v1/auth/login", json=WRONG) for _ in range(4))
    )
    busy = [a for a in answers if a.status_code == 503]
    assert busy and 401 in {a.status_code for a in answers}
    assert all(a.json()["code"] == "busy" for a in busy)
    assert all(a.headers["retry-after"] == str(passwords.RETRY_AFTER_S) for a in busy)
    monkeypatch.setattr(passwords, "MAX_WAIT_S", 5.0)
    late = await client.post("/api/v1/auth/login", json={**WRONG, "password": PASSWORD})
    assert late.status_code == 200  # the slot was given back


@pytest.fixture
def settings_overrides(request):
    if "guessing" not in request.node.name:
        return {}
    return {"login_limit_account": "3/minute", "login_limit_account_total": "6/minute"}


async def test_guessing_from_one_address_does_not_lock_the_owner_out(app, client):
    await register(client)
    async with (
        client_at(app, "203.0.113.9") as attacker,
        client_at(app, "198.51.100.7") as owner,
        client_at(app, "192.0.2.44") as accomplice,
    ):
        for _ in range(3):
            assert (await attacker.post("/api/v1/auth/login", json=WRONG)).status_code == 401
        blocked = await attacker.post("/api/v1/auth/login", json={**WRONG, "password": PASSWORD})
        assert blocked.status_code == 429 and blocked.json()["code"] == "rate_limited"
        assert int(blocked.headers["retry-after"]) > 0

        signed_in = await owner.post("/api/v1/auth/login", json={**WRONG, "password": PASSWORD})
        assert signed_in.status_code == 200

        # the account-wide ceiling: guesses spread over addresses add up
        for _ in range(3):
            assert (await accomplice.post("/api/v1/auth/login", json=WRONG)).status_code == 401
        ceiling = await owner.post("/api/v1/auth/login", json={**WRONG, "password": PASSWORD})
        assert ceiling.status_code == 429
