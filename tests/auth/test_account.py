"""The account is the user's: deleting it, signing out everywhere (SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy import bindparam, text

from tests.blogs.helpers import generate, new_session, read_events, ready_documents
from tests.conftest import PASSWORD, browser_login, login, make_user
from tests.documents.helpers import fixture

# What a user owns, each counted by the ids collected while they still existed, so rows
# left behind without their parent would still be counted.
OWNED = {
    "users": "SELECT count(*) FROM users WHERE id = :user",
    "documents": "SELECT count(*) FROM documents WHERE user_id = :user",
    "chunks": "SELECT count(*) FROM chunks WHERE document_id IN :documents",
    "generation_sessions": "SELECT count(*) FROM generation_sessions WHERE user_id = :user",
    "blogs": "SELECT count(*) FROM blogs WHERE user_id = :user",
    "blog_revisions": "SELECT count(*) FROM blog_revisions WHERE blog_id IN :blogs",
    "blog_events": "SELECT count(*) FROM blog_events WHERE blog_id IN :blogs",
    "refresh_families": "SELECT count(*) FROM refresh_families WHERE user_id = :user",
    "refresh_tokens": "SELECT count(*) FROM refresh_tokens WHERE family_id IN :families",
}


async def _ids(app, sql: str, user_id: str) -> list[str]:
    async with app.state.engine.connect() as connection:
        return list((await connection.execute(text(sql), {"user": user_id})).scalars())


async def owned_rows(app, user_id: str, ids: dict | None = None) -> tuple[dict, dict]:
    """Row counts per table for the user, and the ids they were counted by."""
    ids = ids or {
        "user": user_id,
        "documents": await _ids(app, "SELECT id FROM documents WHERE user_id = :user", user_id),
        "blogs": await _ids(app, "SELECT id FROM blogs WHERE user_id = :user", user_id),
        "families": await _ids(
            app, "SELECT id FROM refresh_families WHERE user_id = :user", user_id
        ),
    }
    counts = {}
    async with app.state.engine.connect() as connection:
        for table, sql in OWNED.items():
            lists = [bindparam(k, expanding=True) for k in ids if k != "user" and f":{k}" in sql]
            statement = text(sql).bindparams(*lists)
            counts[table] = (await connection.execute(statement, ids)).scalar_one()
    return counts, ids


async def own_everything(user) -> None:
    """A ready document, a session and a finished blog."""
    doc_ids = await ready_documents(user, fixture("tide-pools.md"))
    session = await new_session(user, doc_ids, topic="tide pool animals", length="short")
    await generate(user, session["id"])
    await read_events(user, session["id"])


def user_dir(app, user_id: str):
    return app.state.settings.upload_dir / user_id


def assert_signed_out_answer(response) -> None:
    assert response.status_code == 204, response.text
    assert response.headers["clear-site-data"] == '"cookies", "storage"'


async def delete_me(client, password: str, headers: dict):
    return await client.request(
        "DELETE", "/api/v1/auth/me", json={"password": password}, headers=headers
    )


async def test_deleting_the_account_removes_everything_it_owns(app, client):
    ada = await make_user(client, "ada@example.com")
    bob = await make_user(client, "bob@example.com")
    await own_everything(ada)
    await own_everything(bob)
    ada_id = (await ada.get("/api/v1/auth/me")).json()["id"]
    bob_id = (await bob.get("/api/v1/auth/me")).json()["id"]
    second = await login(client, "ada@example.com")  # another device of Ada's
    ada_before, ada_ids = await owned_rows(app, ada_id)
    bob_before, _ = await owned_rows(app, bob_id)
    assert all(ada_before.values()), ada_before
    assert any(user_dir(app, ada_id).iterdir())

    wrong = await delete_me(client, "not the password", ada.headers)
    assert wrong.status_code == 403 and wrong.json()["code"] == "wrong_password"
    assert (await owned_rows(app, ada_id, ada_ids))[0] == ada_before

    assert_signed_out_answer(await delete_me(client, PASSWORD, ada.headers))

    assert set((await owned_rows(app, ada_id, ada_ids))[0].values()) == {0}
    if app.state.engine.dialect.name == "sqlite":  # the full-text index followed the cascade
        async with app.state.engine.begin() as connection:
            await connection.execute(
                text("INSERT INTO chunks_fts(chunks_fts) VALUES ('integrity-check')")
            )
    assert not user_dir(app, ada_id).exists()
    for token in (ada.tokens["access_token"], second["access_token"]):
        me = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 401
    refresh = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]}
    )
    assert refresh.status_code == 401
    gone = await client.post(
        "/api/v1/auth/login", json={"email": "ada@example.com", "password": PASSWORD}
    )
    assert gone.status_code == 401

    assert (await owned_rows(app, bob_id))[0] == bob_before
    assert any(user_dir(app, bob_id).iterdir())
    assert (await bob.get("/api/v1/blogs")).json()["items"]


async def test_a_browser_deletes_its_account_with_csrf_and_loses_its_cookies(app, client):
    await make_user(client)
    browser = await browser_login(app)
    csrf = {"X-CSRF-Token": browser.cookies["ds_csrf"]}
    refused = await delete_me(browser, PASSWORD, {})
    assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"
    response = await delete_me(browser, PASSWORD, csrf)
    assert_signed_out_answer(response)
    cleared = response.headers.get_list("set-cookie")
    for name in ("ds_access", "ds_refresh", "ds_csrf"):
        assert any(c.startswith(f"{name}=") and "Max-Age=0" in c for c in cleared), cleared
    assert (await client.get("/api/v1/auth/me")).status_code == 401


async def test_logout_all_revokes_every_session(app, client):
    ada = await make_user(client)
    phone = await login(client)
    browser = await browser_login(app)
    bob = await make_user(client, "bob@example.com")

    assert_signed_out_answer(await ada.post("/api/v1/auth/logout-all"))

    for token in (ada.tokens["access_token"], phone["access_token"]):
        me = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 401 and me.json()["code"] == "token_revoked"
    for refresh_token in (ada.tokens["refresh_token"], phone["refresh_token"]):
        refresh = await client.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token})
        assert refresh.status_code == 401
    assert (await browser.get("/api/v1/auth/me")).status_code == 401
    assert (await bob.get("/api/v1/auth/me")).status_code == 200  # other users keep theirs
    assert (await login(client))["access_token"]  # and Ada can sign in again


async def test_logout_all_from_a_browser_clears_its_cookies(app, client):
    await make_user(client)
    browser = await browser_login(app)
    response = await browser.post(
        "/api/v1/auth/logout-all", headers={"X-CSRF-Token": browser.cookies["ds_csrf"]}
    )
    assert_signed_out_answer(response)
    assert any(c.startswith("ds_refresh=") for c in response.headers.get_list("set-cookie"))
    assert (await browser.get("/api/v1/auth/me")).status_code == 401
