"""Denylisted access-token ids, kept until the token would have expired anyway."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from draftsmith.auth.models import RevokedAccessToken
from draftsmith.db import utcnow
from draftsmith.outage import Outage

log = logging.getLogger(__name__)


class Denylist(Protocol):
    async def add(self, jti: str, expires_at: datetime) -> None: ...
    async def contains(self, jti: str) -> bool: ...


class RedisDenylist:
    """Denylist in Redis, shared by every server process.

    While Redis is unreachable the check is skipped with a warning: every access
    token also names its sign-in session, whose revocation is checked in the
    database on each request, so a signed-out token stays refused.
    """

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        # one warning per outage, not one per request (the database check still refuses
        # signed-out tokens meanwhile)
        self.outage = Outage("Redis (the token denylist; sessions are checked in the database)")

    async def add(self, jti: str, expires_at: datetime) -> None:
        ttl = int((expires_at - datetime.now(UTC)).total_seconds()) + 1
        if ttl > 0:
            try:
                await self.redis.set(f"draftsmith:denied-jti:{jti}", "1", ex=ttl)
            except RedisError as exc:
                self.outage.failed(exc)
            else:
                self.outage.recovered()

    async def contains(self, jti: str) -> bool:
        try:
            found = bool(await self.redis.exists(f"draftsmith:denied-jti:{jti}"))
        except RedisError as exc:
            self.outage.failed(exc)
            return False
        self.outage.recovered()
        return found


class DatabaseDenylist:
    def __init__(self, db: async_sessionmaker[AsyncSession]) -> None:
        self.db = db

    async def add(self, jti: str, expires_at: datetime) -> None:
        async with self.db() as db:
            await db.execute(
                delete(RevokedAccessToken).where(RevokedAccessToken.expires_at < utcnow())
            )
            if await db.get(RevokedAccessToken, jti) is None:
                db.add(RevokedAccessToken(jti=jti, expires_at=expires_at))
            await db.commit()

    async def contains(self, jti: str) -> bool:
        async with self.db() as db:
            found = await db.scalar(
                select(RevokedAccessToken.jti).where(RevokedAccessToken.jti == jti)
            )
            return found is not None
