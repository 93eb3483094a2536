"""Login rate limits (the `limits` library).

Failed sign-ins count per account *and* client address, so an attacker guessing from one
address is stopped without locking the owner out from theirs; a much higher account-wide
ceiling slows a guess spread over many addresses. Attempts also count per address.
"""

from __future__ import annotations

import logging
import math
import time
from contextlib import asynccontextmanager

from limits import parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from draftsmith.config import Settings
from draftsmith.errors import ApiError

log = logging.getLogger(__name__)


class LoginLimiter:
    def __init__(self, settings: Settings) -> None:
        storage: Storage
        if settings.redis_url:
            storage = RedisStorage(
                settings.redis_url, implementation="redispy", key_prefix="draftsmith-limits"
            )
        else:
            storage = MemoryStorage()
        self._limiter = MovingWindowRateLimiter(storage)
        self._per_account = parse(settings.login_limit_account)
        self._per_account_total = parse(settings.login_limit_account_total)
        self._per_address = parse(settings.login_limit_address)
        self._registrations = parse(settings.register_limit_address)

    async def _refuse_if_exhausted(self, item, key: str, what: str = "sign-in") -> None:
        if not await self._limiter.test(item, "login", key):
            stats = await self._limiter.get_window_stats(item, "login", key)
            retry = max(1, math.ceil(stats.reset_time - time.time()))
            raise ApiError(
                429,
                "rate_limited",
                f"Too many {what} attempts. Try again in {retry} seconds.",
                {"Retry-After": str(retry)},
            )

    @staticmethod
    def _account_keys(email: str, address: str) -> tuple[str, str]:
        # "|" never occurs in an address, so the pair key is unambiguous
        return f"account-from:{email}|{address}", f"account:{email}"

    async def check(self, email: str, address: str) -> None:
        """Count this attempt for the address; refuse when any limit is used up."""
        from_address, account = self._account_keys(email, address)
        async with self._storage_errors():
            await self._refuse_if_exhausted(self._per_account, from_address)
            await self._refuse_if_exhausted(self._per_account_total, account)
            await self._refuse_if_exhausted(self._per_address, f"address:{address}")
            await self._limiter.hit(self._per_address, "login", f"address:{address}")

    async def check_registration(self, address: str) -> None:
        """Count a registration attempt from this address; refuse when the limit is used up."""
        async with self._storage_errors():
            await self._refuse_if_exhausted(
                self._registrations, f"register:{address}", "registration"
            )
            await self._limiter.hit(self._registrations, "login", f"register:{address}")

    async def failed(self, email: str, address: str) -> None:
        from_address, account = self._account_keys(email, address)
        async with self._storage_errors():
            await self._limiter.hit(self._per_account, "login", from_address)
            await self._limiter.hit(self._per_account_total, "login", account)

    @asynccontextmanager
    async def _storage_errors(self):
        """Sign-in fails closed (503) while the limit store is unreachable."""
        try:
            yield
        except ApiError:
            raise
        except Exception as exc:
            log.error("login rate-limit storage unreachable: %s", exc)
            raise ApiError(
                503,
                "service_unavailable",
                "Signing in is briefly unavailable; try again in a moment.",
                {"Retry-After": "5"},
            ) from exc

    async def reset(self) -> None:
        await self._limiter.storage.reset()
