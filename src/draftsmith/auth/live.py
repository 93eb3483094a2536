"""Live sign-in sessions, remembered per process so that most authenticated requests need no
database query, and forgotten at once when a session or account is revoked.

A remembered session is trusted only while the user's *revocation epoch* is unchanged.
Every logout, logout-all, password change, disable and deletion bumps it after committing:

- in this process (always);
- in a file beside a SQLite database, which ``draftsmith user ...`` in another process grows
  by a byte (one ``stat`` per request: its size and modification time);
- in Redis when configured (a fresh random value, read in the same round trip as the
  access-token denylist), so every web process sees it;
- on PostgreSQL without Redis, by a ``NOTIFY`` that every web process ``LISTEN``s to
  (``draftsmith.signals``): the revoking process waits until every listening process has
  confirmed that it forgot (a second at most), so none trusts its memory after it answers.
  While a process is not listening (connecting, or its connection lost) it trusts no memory
  and asks the database each time.

The epoch is read *before* the database is asked, so a revocation that commits meanwhile
invalidates what that query found.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import bindparam, select

from draftsmith.auth import tokens
from draftsmith.auth.models import RefreshFamily, User
from draftsmith.config import Settings
from draftsmith.db import utcnow
from draftsmith.outage import Outage
from draftsmith.reads import Reads
from draftsmith.signals import Signals

log = logging.getLogger(__name__)

#: a backstop, not the mechanism: revocations invalidate at once through the epochs
ENTRY_TTL_S = 300.0
MAX_ENTRIES = 20_000
EPOCH_KEY = "draftsmith:auth-epoch:{}"
DENIED_KEY = "draftsmith:denied-jti:{}"
REDIS_EPOCH_TTL_S = 7 * 86400  # longer than any cache entry lives
REVOKED_TOPIC = "auth-revoked:"


@dataclass(frozen=True, slots=True)
class Account:
    """What a request knows of its caller: a snapshot, not a database row (to change the
    account, load its ``User`` in the request's session)."""

    id: str
    email: str
    display_name: str | None
    created_at: datetime


def epoch_file(settings: Settings) -> Path | None:
    """The file whose modification time is the revocation epoch of a SQLite deployment."""
    if not settings.is_sqlite:
        return None
    database = settings.database.split(":///", 1)[-1]
    if not database or database.startswith(":memory:"):
        return None
    return Path(database + ".auth-epoch")


def touch_epoch_file(path: Path | None) -> None:
    """Change the file's epoch: one byte appended (its size never repeats, even when two
    revocations land in one tick of a coarse file clock) and the modification time set."""
    if path is None:
        return
    try:
        with path.open("ab") as file:
            file.write(b".")
        now = time.time_ns()
        os.utime(path, ns=(now, now))
    except OSError:
        log.warning("could not touch the revocation epoch file %s", path, exc_info=True)


def _file_epoch(path: Path | None) -> tuple[int, int]:
    if path is None:
        return 0, 0
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return 0, 0
    return stat.st_size, stat.st_mtime_ns


#: built once: the statement cache knows it, nothing is composed per request
_LIVE_USER = (
    select(User.id, User.email, User.display_name, User.created_at, RefreshFamily.expires_at)
    .join(RefreshFamily, RefreshFamily.user_id == User.id)
    .where(
        User.id == bindparam("user_id"),
        RefreshFamily.id == bindparam("family_id"),
        User.disabled_at.is_(None),
        RefreshFamily.revoked_at.is_(None),
        RefreshFamily.expires_at > bindparam("now", type_=RefreshFamily.expires_at.type),
    )
)


async def query_live_user(
    reads: Reads, user_id: str, family_id: str
) -> tuple[Account, datetime] | None:
    """The enabled user of a sign-in session neither revoked nor expired, with the session's
    expiry; one indexed query."""
    row = await reads.first(
        _LIVE_USER, {"user_id": user_id, "family_id": family_id, "now": utcnow()}
    )
    if row is None:
        return None
    account = Account(row["id"], row["email"], row["display_name"], row["created_at"])
    return account, row["expires_at"]


class LiveSessions:
    """The per-process memory of live sessions, the Redis denylist, and the revocation
    epochs that keep the memory honest."""

    def __init__(
        self,
        redis: Redis | None,
        epoch_path: Path | None,
        remember: bool,
        signals: Signals | None = None,
    ) -> None:
        self.redis = redis
        self.epoch_path = epoch_path
        self.remember = remember
        #: PostgreSQL without Redis: revocations arrive as notifications
        self.signals = signals
        if signals is not None:
            signals.on_receive(self._told)
        self._local: dict[str, int] = {}
        self._remote: dict[str, int] = {}
        self._restarts = 0
        self._entries: dict[tuple[str, str], tuple[tuple, Account, datetime, float]] = {}
        self._verified: dict[str, tokens.AccessClaims] = {}
        self.outage = Outage("Redis (the token denylist and session epochs)")

    @classmethod
    def for_settings(
        cls, settings: Settings, redis: Redis | None, signals: Signals | None = None
    ) -> LiveSessions:
        path = epoch_file(settings)
        if redis is not None or signals is None or signals.via != "PostgreSQL":
            signals = None
        remember = redis is not None or path is not None or signals is not None
        return cls(redis, path, remember=remember, signals=signals)

    def _told(self, topic: str) -> None:
        """Another process (or this one) revoked a user's sessions."""
        if topic.startswith(REVOKED_TOPIC):
            user_id = topic.removeprefix(REVOKED_TOPIC)
            if len(self._remote) >= MAX_ENTRIES:  # counters restart: a new series of epochs
                self._remote.clear()
                self._restarts += 1
            self._remote[user_id] = self._remote.get(user_id, 0) + 1

    def claims(self, secret: str, token: str) -> tokens.AccessClaims:
        """The verified claims of an access token (raises ``tokens.InvalidToken``); a token
        verified before is not verified again until it expires (the check costs more than
        the rest of a remembered request)."""
        claims = self._verified.get(token)
        if claims is not None and claims.expires_at > utcnow():
            return claims
        self._verified.pop(token, None)
        claims = tokens.decode_access_token(secret, token)
        if len(self._verified) >= MAX_ENTRIES:
            self._verified.clear()
        self._verified[token] = claims
        return claims

    async def _epoch(self, user_id: str, jti: str | None) -> tuple[bool, tuple | None]:
        """Whether ``jti`` is denylisted, and the user's epoch (None: do not trust memory)."""
        remote = None
        if self.redis is not None:
            try:
                async with self.redis.pipeline(transaction=False) as pipe:
                    pipe.exists(DENIED_KEY.format(jti or "-"))
                    pipe.get(EPOCH_KEY.format(user_id))
                    denied, remote = await pipe.execute()
            except RedisError as exc:
                self.outage.failed(exc)
                return False, None  # the database still refuses revoked sessions
            self.outage.recovered()
            if denied:
                return True, None
        elif self.signals is not None:
            if not self.signals.listening:
                return False, None  # a notification may be missed: ask the database
            remote = (self.signals.generation, self._restarts, self._remote.get(user_id, 0))
        return False, (self._local.get(user_id, 0), remote, _file_epoch(self.epoch_path))

    async def user(
        self,
        reads: Reads,
        user_id: str,
        family_id: str,
        jti: str | None,
    ) -> Account | None:
        """The caller's account when the session is live, else None (revoked, expired,
        disabled, deleted or denylisted)."""
        denied, epoch = await self._epoch(user_id, jti)
        if denied:
            return None
        key = (user_id, family_id)
        entry = self._entries.get(key) if self.remember and epoch is not None else None
        if entry is not None:
            seen, account, expires_at, stored = entry
            if seen == epoch and time.monotonic() - stored < ENTRY_TTL_S and expires_at > utcnow():
                return account
        found = await query_live_user(reads, user_id, family_id)
        if found is None:
            self._entries.pop(key, None)
            return None
        if self.remember and epoch is not None:
            if len(self._entries) >= MAX_ENTRIES:
                self._entries.clear()
            self._entries[key] = (epoch, found[0], found[1], time.monotonic())
        return found[0]

    async def deny(self, jti: str, expires_at: datetime) -> None:
        """Denylist one access token (Redis only: elsewhere its revoked session refuses it)."""
        if self.redis is None:
            return
        ttl = int((expires_at - utcnow()).total_seconds()) + 1
        if ttl <= 0:
            return
        try:
            await self.redis.set(DENIED_KEY.format(jti), "1", ex=ttl)
        except RedisError as exc:
            self.outage.failed(exc)
        else:
            self.outage.recovered()

    async def revoked(self, user_id: str) -> None:
        """Forget the user's sessions in every process; call it after the revocation commits."""
        self._local[user_id] = self._local.get(user_id, 0) + 1
        for key in [key for key in self._entries if key[0] == user_id]:
            self._entries.pop(key, None)
        await bump_shared_epochs(self.redis, self.epoch_path, user_id)
        if self.signals is not None and not await self.signals.tell_everywhere(
            [REVOKED_TOPIC + user_id]
        ):
            # the other processes keep trusting their memory until the entry backstop
            log.warning("could not notify the other processes of a session revocation")


async def bump_shared_epochs(redis: Redis | None, epoch_path: Path | None, user_id: str) -> None:
    """Tell the other processes (web processes, or a server beside the CLI) to forget."""
    touch_epoch_file(epoch_path)
    if redis is None:
        return
    try:
        # A value never used before, not a counter: a counter restarts at 1 when its key is
        # lost (a flush, a Redis restart without persistence, eviction), and a process that
        # remembered "1" from an earlier revocation would take the new "1" for no change.
        await redis.set(EPOCH_KEY.format(user_id), uuid.uuid4().hex, ex=REDIS_EPOCH_TTL_S)
    except RedisError:
        # Other processes cannot read the epoch either while Redis is down, so they ask the
        # database; the entry backstop (ENTRY_TTL_S) covers a blip that only this call met.
        log.warning("could not publish a session revocation to Redis", exc_info=True)
