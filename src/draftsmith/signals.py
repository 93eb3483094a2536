"""Wake-ups after commits: "something about this topic was committed", told to whoever waits
on the topic, in this process at once and, across processes, through Redis pub/sub when Redis
is configured, else PostgreSQL ``LISTEN``/``NOTIFY`` on a PostgreSQL database (SQLite has one
web process, so in process is everywhere).

The database stays the record: a wake-up carries no data, it only tells a waiter to read now
instead of polling. A waiter that may have missed one (the listener reconnecting) is woken
anyway, and ``generation`` changes, so that memory kept on the strength of wake-ups (live
sign-in sessions) is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Iterable, Iterator

import asyncpg
from redis.asyncio import Redis
from redis.exceptions import RedisError

from draftsmith.reads import asyncpg_connect_args

log = logging.getLogger(__name__)

CHANNEL = "draftsmith:signals"
PG_CHANNEL = "draftsmith_signals"
PG_PAYLOAD_MAX = 7900  # NOTIFY refuses payloads of 8,000 bytes and more
RECONNECT_S = 2.0
KEEPALIVE_S = 15.0  # how soon a listener whose connection silently died notices
ACK_WAIT_S = 1.0
ASK = "ack-please:"
ACK = "ack:"
LISTENER_NAME = "draftsmith-listener"  # the listening connections, counted by a sender
FIRST_LISTEN_S = 3.0

Receive = Callable[[str], None]


class _RedisTransport:
    name = "Redis"
    errors = (RedisError, OSError)

    def __init__(self, url: str) -> None:
        # no read timeout: a subscription is quiet for as long as nothing happens
        self.redis = Redis.from_url(url, socket_connect_timeout=3, socket_keepalive=True)

    async def publish(self, message: str) -> None:
        await self.redis.publish(CHANNEL, message)

    async def listeners(self) -> int:
        return int(dict(await self.redis.pubsub_numsub(CHANNEL)).get(CHANNEL.encode(), 0))

    async def listen(self, ready: Callable[[], None], receive: Receive) -> None:
        async with self.redis.pubsub() as pubsub:
            await pubsub.subscribe(CHANNEL)
            ready()
            async for message in pubsub.listen():
                if message["type"] == "message":
                    receive(message["data"].decode())

    async def close(self) -> None:
        await self.redis.aclose()


class _PostgresTransport:
    """``NOTIFY`` on a connection kept for publishing, ``LISTEN`` on another (a pooled
    connection cannot be kept listening)."""

    name = "PostgreSQL"
    errors = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)

    def __init__(self, database_url: str) -> None:
        self._database_url = database_url
        self._publisher: asyncpg.Connection | None = None
        self._lock = asyncio.Lock()

    async def _connect(self, name: str = "draftsmith") -> asyncpg.Connection:
        args, kwargs = asyncpg_connect_args(self._database_url, name, timeout=3)
        return await asyncpg.connect(*args, **kwargs)

    async def publish(self, message: str) -> None:
        async with self._lock:  # one statement at a time on the connection
            if self._publisher is None or self._publisher.is_closed():
                self._publisher = await self._connect()
            try:
                await self._publisher.execute("SELECT pg_notify($1, $2)", PG_CHANNEL, message)
            except BaseException:
                self._publisher.terminate()
                self._publisher = None
                raise

    async def listeners(self) -> int:
        async with self._lock:
            if self._publisher is None or self._publisher.is_closed():
                self._publisher = await self._connect()
            return await self._publisher.fetchval(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE application_name = $1 AND datname = current_database()",
                LISTENER_NAME,
            )

    async def listen(self, ready: Callable[[], None], receive: Receive) -> None:
        connection = await self._connect(LISTENER_NAME)
        lost = asyncio.Event()
        try:
            connection.add_termination_listener(lambda _connection: lost.set())
            await connection.add_listener(PG_CHANNEL, lambda *args: receive(args[-1]))
            ready()
            while not lost.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), KEEPALIVE_S)
                if not lost.is_set():  # a dead peer shows here, not as a closed socket
                    await connection.execute("SELECT 1", timeout=KEEPALIVE_S)
            raise ConnectionError("the listening connection closed")
        finally:
            connection.terminate()

    async def close(self) -> None:
        async with self._lock:
            if self._publisher is not None:
                await self._publisher.close(timeout=2)
                self._publisher = None


def _transport(redis_url: str | None, database_url: str | None):
    if redis_url:
        return _RedisTransport(redis_url)
    if database_url and database_url.startswith("postgresql"):
        return _PostgresTransport(database_url)
    return None


class Signals:
    def __init__(self, redis_url: str | None, database_url: str | None = None) -> None:
        self._transport = _transport(redis_url, database_url)
        self._waiters: dict[str, set[asyncio.Event]] = {}
        self._receivers: list[Receive] = []
        self._acks: dict[str, _Acks] = {}
        self._tasks: set[asyncio.Task] = set()
        self._listener: asyncio.Task | None = None
        self._first = asyncio.Event()
        #: whether wake-ups from other processes arrive now
        self.listening = False
        #: changes whenever listening starts or stops: wake-ups may have been missed
        self.generation = 0

    @property
    def via(self) -> str | None:
        """What carries wake-ups between processes (None: nothing, one process)."""
        return self._transport.name if self._transport else None

    async def listen(self) -> None:
        """Receive the other processes' wake-ups (web processes); waits a little for the
        first connection, so that a process starts out listening when it can."""
        if self._transport is not None:
            self._listener = asyncio.create_task(self._listen(), name="signals")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._first.wait(), FIRST_LISTEN_S)

    def on_receive(self, receive: Receive) -> None:
        """Call ``receive(topic)`` for every topic another process (or this one) sends."""
        self._receivers.append(receive)

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
        """Wake the topics' waiters here and in the other processes; called after a commit,
        on the event loop's thread."""
        topics = sorted(set(topics))
        for topic in topics:
            self._wake(topic)
        if self._transport is not None and topics:
            task = asyncio.get_running_loop().create_task(self._publish(topics))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def tell_everywhere(self, topics: Iterable[str]) -> bool:
        """Send ``topics`` to every listening process and wait (a second at most) until each
        has acted on them: when this returns, no other process acts as if it had not heard.
        False when they could not be sent."""
        topics = sorted(set(topics))
        if self._transport is None:
            return True
        if self._listener is None:
            await self.listen()  # to hear the confirmations (the CLI)
        nonce = uuid.uuid4().hex
        self._acks[nonce] = acks = _Acks()
        try:
            try:
                expected = await self._transport.listeners()
            except self._transport.errors as exc:
                log.warning("could not count the processes listening to %s: %s", self.via, exc)
                expected = 0
            if not await self._publish([*topics, ASK + nonce]):
                return False
            if not await acks.reach(expected, ACK_WAIT_S):
                log.warning(
                    "%d of %d processes confirmed a wake-up through %s within %.0f s",
                    acks.count,
                    expected,
                    self.via,
                    ACK_WAIT_S,
                )
            return True
        finally:
            del self._acks[nonce]

    def _wake(self, topic: str) -> None:
        for event in self._waiters.get(topic, ()):
            event.set()

    async def _publish(self, topics: list[str]) -> bool:
        try:
            for message in _messages(topics):
                await self._transport.publish(message)
        except self._transport.errors as exc:  # streams elsewhere fall back to a slow poll
            log.warning("could not publish a wake-up through %s: %s", self.via, exc)
            return False
        return True

    def _receive(self, message: str) -> None:
        asked = []
        for topic in message.split("\n"):
            if topic.startswith(ASK):
                asked.append(ACK + topic.removeprefix(ASK))
            elif topic.startswith(ACK):
                acks = self._acks.get(topic.removeprefix(ACK))
                if acks is not None:
                    acks.add()
            else:
                self._wake(topic)
                for receive in self._receivers:
                    receive(topic)
        if asked:  # acted on: confirm to the sender
            task = asyncio.get_running_loop().create_task(self._publish(asked))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _listening(self, now: bool) -> None:
        self.listening = now
        if now:
            self._first.set()
        self.generation += 1
        self._wake_all()  # anything missed while (re)connecting is read now

    async def _listen(self) -> None:
        while True:
            try:
                await self._transport.listen(lambda: self._listening(True), self._receive)
            except self._transport.errors as exc:
                log.warning("%s wake-ups interrupted (%s); reconnecting", self.via, exc)
            finally:
                if self.listening:
                    self._listening(False)
            await asyncio.sleep(RECONNECT_S)

    def _wake_all(self) -> None:
        for topic in list(self._waiters):
            self._wake(topic)

    async def sent(self, within_s: float = 2.0) -> None:
        """Wait (``within_s`` at most) until the wake-ups notified so far have gone out."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=within_s)

    async def close(self) -> None:
        await self.sent()  # the last wake-ups still go out
        tasks = [*self._tasks, *([self._listener] if self._listener else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._transport is not None:
            with contextlib.suppress(*self._transport.errors):
                await self._transport.close()


class _Acks:
    """Confirmations of one wake-up, counted as they arrive."""

    def __init__(self) -> None:
        self.count = 0
        self._changed = asyncio.Event()

    def add(self) -> None:
        self.count += 1
        self._changed.set()

    async def reach(self, expected: int, within_s: float) -> bool:
        try:
            async with asyncio.timeout(within_s):
                while self.count < expected:
                    self._changed.clear()
                    await self._changed.wait()
        except TimeoutError:
            return False
        return True


def _messages(topics: list[str]) -> Iterator[str]:
    """The topics, newline-separated, in messages small enough for ``NOTIFY``."""
    batch: list[str] = []
    size = 0
    for topic in topics:
        if batch and size + len(topic) + 1 > PG_PAYLOAD_MAX:
            yield "\n".join(batch)
            batch, size = [], 0
        batch.append(topic)
        size += len(topic) + 1
    if batch:
        yield "\n".join(batch)
