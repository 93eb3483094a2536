"""Wake-ups between processes through PostgreSQL's LISTEN/NOTIFY (no Redis): delivered,
confirmed by every listener before a sender that asks goes on, and a lost listening
connection is noticed and replaced (memory kept on the strength of wake-ups is dropped)."""

from __future__ import annotations

import asyncio
import logging

import asyncpg

from draftsmith import signals as signals_module
from draftsmith.signals import LISTENER_NAME, Signals
from tests.conftest import terminate_backends


async def listening(*processes: Signals) -> None:
    for process in processes:
        await process.listen()
        assert process.listening and process.via == "PostgreSQL"


async def a_wake_up_reaches_another_process(url: str) -> None:
    first, second = Signals(None, url), Signals(None, url)
    try:
        await listening(first, second)
        with second.watch("generation-session:42") as woken:
            first.notify(["generation-session:42"])
            await asyncio.wait_for(woken.wait(), 5)
    finally:
        await first.close()
        await second.close()


async def test_a_wake_up_reaches_every_listening_process(postgres_url):
    await a_wake_up_reaches_another_process(postgres_url)


async def test_the_url_is_read_as_sqlalchemy_reads_it(postgres_url):
    """Its SQLAlchemy-only options (PgBouncer setups turn the statement cache off so) are not
    sent to the server as settings, which would refuse the connection."""
    await a_wake_up_reaches_another_process(postgres_url + "?prepared_statement_cache_size=0")


async def test_a_sender_goes_on_once_every_listener_has_acted(postgres_url):
    """``tell_everywhere`` returns after each listening process ran its receivers, the
    sender included; a sender that was not listening (the CLI) starts to hear the answers."""
    processes = [Signals(None, postgres_url) for _ in range(3)]
    heard: list[list[str]] = [[] for _ in processes]
    for process, topics in zip(processes, heard, strict=True):
        process.on_receive(topics.append)
    sender = Signals(None, postgres_url)
    try:
        await listening(*processes)
        assert await sender.tell_everywhere(["auth-revoked:u1"])
        assert sender.listening
        assert all(topics == ["auth-revoked:u1"] for topics in heard)
    finally:
        for process in (*processes, sender):
            await process.close()


async def test_a_silent_listener_delays_the_sender_a_second_at_most(
    postgres_url, monkeypatch, caplog
):
    """A listener that never confirms (hung) costs the sender the wait, then a warning."""
    monkeypatch.setattr(signals_module, "ACK_WAIT_S", 0.3)
    sender = Signals(None, postgres_url)
    dsn = postgres_url.replace("+asyncpg", "")
    hung = await asyncpg.connect(dsn, server_settings={"application_name": LISTENER_NAME})
    await hung.execute('LISTEN "draftsmith_signals"')  # listens, never answers
    try:
        with caplog.at_level(logging.WARNING, logger="draftsmith.signals"):
            assert await sender.tell_everywhere(["auth-revoked:u2"])
        assert "1 of 2 processes confirmed" in caplog.text
    finally:
        await hung.close()
        await sender.close()


async def test_a_lost_listening_connection_is_noticed_and_replaced(postgres_url, monkeypatch):
    monkeypatch.setattr(signals_module, "RECONNECT_S", 0.1)
    process = Signals(None, postgres_url)
    try:
        await listening(process)
        generation = process.generation
        await terminate_backends(postgres_url, LISTENER_NAME)
        for _ in range(100):  # dropped, then listening again under a new generation
            if process.listening and process.generation >= generation + 2:
                break
            await asyncio.sleep(0.05)
        assert process.listening and process.generation >= generation + 2
        with process.watch("t") as woken:  # and it hears again
            other = Signals(None, postgres_url)
            other.notify(["t"])
            await asyncio.wait_for(woken.wait(), 5)
            await other.close()
    finally:
        await process.close()
