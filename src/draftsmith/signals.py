"""Wake-ups after commits: "something about this topic was committed", told to whoever waits
on the topic, in this process at once and, with Redis, in every process (pub/sub).

The database stays the record: a wake-up carries no data, it only tells a waiter to read now
instead of polling. A waiter that may have missed one (Redis reconnecting) is woken anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable, Iterator

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

CHANNEL = "draftsmith:signals"
RECONNECT_S = 2.0


class Signals:
    def __init__(self, redis_url: str | None) -> None:
        # no read timeout: a subscription is quiet for as long as nothing happens
        self.redis = (
            Redis.from_url(redis_url, socket_connect_timeout=3, socket_keepalive=True)
            if redis_url
            else None
        )
        self._waiters: dict[str, set[asyncio.Event]] = {}
        self._tasks: set[asyncio.Task] = set()
        self._listener: asyncio.Task | None = None

    async def listen(self) -> None:
        """Receive the other processes' wake-ups (web processes, with Redis)."""
        if self.redis is not None:
            self._listener = asyncio.create_task(self._listen(), name="signals")

    @contextlib.contextmanager
    def watch(self, topic: str) -> Iterator[asyncio.Event]:
        """An event set by every wake-up of ``topic`` while the block runs (clear it, read,
        then wait: a commit in between is not missed)."""
        event = asyncio.Event()
        self._waiters.setdefault(topic, set()).add(event)
        try:
            yield event
        finally:
            waiters = self._waiters.get(topic)
            if waiters is not None:
                waiters.discard(event)
                if not waiters:
                    del self._waiters[topic]

    def notify(self, topics: Iterable[str]) -> None:
        """Wake the topics' waiters here and, with Redis, everywhere; called after a commit,
        on the event loop's thread."""
        topics = sorted(set(topics))
        for topic in topics:
            self._wake(topic)
        if self.redis is not None and topics:
            task = asyncio.get_running_loop().create_task(self._publish("\n".join(topics)))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _wake(self, topic: str) -> None:
        for event in self._waiters.get(topic, ()):
            event.set()

    async def _publish(self, message: str) -> None:
        try:
            await self.redis.publish(CHANNEL, message)
        except RedisError as exc:  # streams elsewhere fall back to their slow safety poll
            log.warning("could not publish a wake-up to Redis: %s", exc)

    async def _listen(self) -> None:
        while True:
            try:
                async with self.redis.pubsub() as pubsub:
                    await pubsub.subscribe(CHANNEL)
                    self._wake_all()  # anything missed while (re)connecting is read now
                    async for message in pubsub.listen():
                        if message["type"] == "message":
                            for topic in message["data"].decode().split("\n"):
                                self._wake(topic)
            except (RedisError, OSError) as exc:
                log.warning("Redis wake-ups interrupted (%s); reconnecting", exc)
                self._wake_all()
                await asyncio.sleep(RECONNECT_S)

    def _wake_all(self) -> None:
        for topic in list(self._waiters):
            self._wake(topic)

    async def close(self) -> None:
        if self._tasks:  # the last wake-ups still go out
            await asyncio.wait(list(self._tasks), timeout=2)
        tasks = [*self._tasks, *([self._listener] if self._listener else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self.redis is not None:
            await self.redis.aclose()
