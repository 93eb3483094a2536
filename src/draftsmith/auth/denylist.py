"""Denylisted access-token ids, kept until the token would have expired anyway."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

from redis.asyncio import Redis
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from draftsmith.auth.models import RevokedAccessToken
from draftsmith.db import utcnow


class Denylist(Protocol):
    async def add(self, jti: str, expires_at: datetime) -> None: ...
    async def contains(self, jti: str) -> bool: ...


class RedisDenylist:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def add(self, jti: str, expires_at: datetime) -> None:
        ttl = int((expires_at - datetime.now(UTC)).total_seconds()) + 1
        if ttl > 0:
            await self.redis.set(f"draftsmith:denied-jti:{jti}", "1", ex=ttl)

    async def contains(self, jti: str) -> bool:
        return bool(await self.redis.exists(f"draftsmith:denied-jti:{jti}"))


class DatabaseDenylist:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def add(self, jti: str, expires_at: datetime) -> None:
        async with self.sessions() as db:
            await db.execute(delete(RevokedAccessToken).where(RevokedAccessToken.expires_at < utcnow()))
            if await db.get(RevokedAccessToken, jti) is None:
                db.add(RevokedAccessToken(jti=jti, expires_at=expires_at))
            await db.commit()

    async def contains(self, jti: str) -> bool:
        async with self.sessions() as db:
            found = await db.scalar(select(RevokedAccessToken.jti).where(RevokedAccessToken.jti == jti))
            return found is not None
