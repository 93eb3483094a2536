"""Checks of every configured component, shared by `draftsmith doctor` and `serve`."""

from __future__ import annotations

import asyncio
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

from draftsmith.config import Settings, mask_url
from draftsmith.db import create_engine
from draftsmith.migrate import current_revision, head_revision


@dataclass(frozen=True)
class Check:
    component: str
    ok: bool
    message: str


def _sqlite_file(settings: Settings) -> Path | None:
    if not settings.is_sqlite:
        return None
    name = make_url(settings.database).database
    return Path(name) if name and name != ":memory:" else None


async def check_database(settings: Settings, *, migrated_at_start: bool = False) -> Check:
    """`migrated_at_start`: `serve` creates and migrates this (embedded SQLite) database itself,
    so a missing or older one is not a problem (doctor); a worker or an external database
    must already be at the newest revision."""
    path = _sqlite_file(settings)
    if migrated_at_start and path is not None and not path.exists():
        return Check(
            "database",
            True,
            f"{path} does not exist yet: `draftsmith serve` creates and migrates it at first start",
        )
    engine = create_engine(settings.database)
    try:
        revision = await asyncio.wait_for(current_revision(engine), timeout=10)
    except Exception as exc:
        return Check("database", False, f"{mask_url(settings.database)} is unreachable: {exc}")
    finally:
        await engine.dispose()
    head = head_revision()
    if revision != head and migrated_at_start and settings.is_sqlite:
        return Check(
            "database",
            True,
            f"{mask_url(settings.database)} at {revision or 'nothing'}: "
            f"`draftsmith serve` migrates it to {head} at start",
        )
    if revision != head:
        return Check(
            "database",
            False,
            f"not migrated (at {revision or 'nothing'}, need {head}): run `draftsmith migrate`",
        )
    return Check("database", True, f"{mask_url(settings.database)} reachable, migrated ({head})")


async def check_redis(settings: Settings) -> Check | None:
    if not settings.redis_url:
        return None
    from redis.asyncio import Redis

    client = Redis.from_url(settings.redis_url, socket_connect_timeout=3, socket_timeout=3)
    try:
        await client.ping()
        return Check("redis", True, f"{mask_url(settings.redis_url)} reachable")
    except Exception as exc:
        return Check("redis", False, f"{mask_url(settings.redis_url)} is unreachable: {exc}")
    finally:
        await client.aclose()


def check_data_dir(settings: Settings) -> Check:
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=settings.data_dir, prefix=".doctor-"):
            pass
        free = os.statvfs(settings.data_dir)
        free_mb = free.f_bavail * free.f_frsize // (1024 * 1024)
    except OSError as exc:
        return Check("data_dir", False, f"{settings.data_dir} is not writable: {exc}")
    return Check("data_dir", True, f"{settings.data_dir} writable, {free_mb} MB free")


async def check_llm(settings: Settings, *, probe: bool = False) -> Check | None:
    """The endpoint answers its model list; with ``probe`` (doctor) also one tiny completion
    (how long a token takes) and one with ``response_format`` (which mode works)."""
    if not settings.llm_base_url:
        return None
    headers = {}
    if settings.llm_api_key:
        headers["Authorization"] = f"Bearer {settings.llm_api_key.get_secret_value()}"
    url = settings.llm_base_url.rstrip("/") + "/models"
    try:
        async with httpx.AsyncClient(timeout=httpx.Timeout(10, connect=3)) as client:
            response = await client.get(url, headers=headers)
    except httpx.HTTPError as exc:
        return Check("llm", False, f"{mask_url(settings.llm_base_url)} is unreachable: {exc}")
    if response.status_code in (401, 403):
        return Check(
            "llm",
            False,
            f"{mask_url(settings.llm_base_url)} refused the API key ({response.status_code})",
        )
    if response.status_code >= 400:
        return Check("llm", False, f"{url} answered {response.status_code}")
    reachable = f"{mask_url(settings.llm_base_url)} reachable (model {settings.llm_model})"
    if not probe:
        return Check("llm", True, reachable)
    from draftsmith.generation.errors import GenerationError
    from draftsmith.generation.llm.probe import probe_endpoint

    try:
        found = await probe_endpoint(settings)
    except GenerationError as exc:
        return Check("llm", False, f"{reachable}, but a completion failed: {exc.message}")
    return Check("llm", True, f"{reachable}; {found}")


async def run_checks(settings: Settings) -> list[Check]:
    checks = [
        await check_database(settings, migrated_at_start=True),
        await check_redis(settings),
        check_data_dir(settings),
        await check_llm(settings, probe=True),
    ]
    return [c for c in checks if c is not None]
