"""`draftsmith user list|disable|enable|delete` against the database a running app uses."""

from __future__ import annotations

import asyncio

import pytest

from draftsmith.app import create_app
from tests.conftest import PASSWORD, client_for, make_settings, make_user
from tests.documents.helpers import fixture, upload
from tests.test_config_cli import cli


@pytest.fixture
async def shared(tmp_path):
    """An app over the embedded database of ``tmp_path/data``, migrated by the CLI."""
    env = {"DRAFTSMITH_DATA_DIR": str(tmp_path / "data")}
    assert (await asyncio.to_thread(cli, "migrate", cwd=tmp_path, env=env)).returncode == 0
    url = f"sqlite+aiosqlite:///{tmp_path / 'data' / 'draftsmith.db'}"
    app = create_app(make_settings(tmp_path, url))
    async with app.router.lifespan_context(app), client_for(app) as client:

        async def run(*args: str, stdin: str | None = None):
            return await asyncio.to_thread(cli, "user", *args, cwd=tmp_path, env=env, stdin=stdin)

        yield app, client, run


async def test_list_disable_enable(shared):
    app, client, run = shared
    ada = await make_user(client, "ada@example.com")
    bob = await make_user(client, "bob@example.com")

    listed = await run("list")
    rows = [line.split("\t") for line in listed.stdout.splitlines()]
    assert listed.returncode == 0 and [r[0] for r in rows] == ["ada@example.com", "bob@example.com"]
    assert [(r[3], r[4]) for r in rows] == [("active", "1"), ("active", "1")]

    disabled = await run("disable", "ada@example.com")
    assert disabled.returncode == 0, disabled.stderr
    assert (await ada.get("/api/v1/auth/me")).status_code == 401  # at once
    assert (await bob.get("/api/v1/auth/me")).status_code == 200
    refused = await client.post(
        "/api/v1/auth/login", json={"email": "ada@example.com", "password": PASSWORD}
    )
    assert refused.status_code == 403 and refused.json()["code"] == "account_disabled"
    assert "disabled" in refused.json()["detail"]
    wrong = await client.post(
        "/api/v1/auth/login", json={"email": "ada@example.com", "password": "a wrong password"}
    )
    assert wrong.status_code == 401  # no hint about the account without its password
    rows = [line.split("\t") for line in (await run("list")).stdout.splitlines()]
    assert [(r[3], r[4]) for r in rows] == [("disabled", "0"), ("active", "1")]

    assert (await run("enable", "ada@example.com")).returncode == 0
    again = await client.post(
        "/api/v1/auth/login", json={"email": "ada@example.com", "password": PASSWORD}
    )
    assert again.status_code == 200

    ghost = await run("disable", "ghost@example.com")
    assert ghost.returncode == 1 and ghost.stderr.strip() == "No user with email ghost@example.com."


async def test_delete_asks_first_and_removes_files_and_tokens(shared):
    app, client, run = shared
    ada = await make_user(client, "ada@example.com")
    bob = await make_user(client, "bob@example.com")
    for user in (ada, bob):
        await upload(user, fixture("tide-pools.md"))
    ada_id = (await ada.get("/api/v1/auth/me")).json()["id"]
    bob_id = (await bob.get("/api/v1/auth/me")).json()["id"]
    uploads = app.state.settings.upload_dir

    kept = await run("delete", "ada@example.com", stdin="n\n")
    assert kept.returncode == 1 and "Nothing deleted" in kept.stderr
    assert (await ada.get("/api/v1/auth/me")).status_code == 200

    deleted = await run("delete", "ada@example.com", "--yes")
    assert deleted.returncode == 0, deleted.stderr
    assert (await ada.get("/api/v1/auth/me")).status_code == 401
    assert not (uploads / ada_id).exists() and any((uploads / bob_id).iterdir())
    assert len((await bob.get("/api/v1/documents")).json()["items"]) == 1
    assert [line.split("\t")[0] for line in (await run("list")).stdout.splitlines()] == [
        "bob@example.com"
    ]
