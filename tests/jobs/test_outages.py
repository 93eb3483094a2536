"""Real `draftsmith serve` and `draftsmith worker` processes outliving a Redis restart, a
PostgreSQL restart and a worker killed mid-job, against servers of this test."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from draftsmith.migrate import upgrade
from tests.blogs.helpers import generate, new_session
from tests.conftest import make_user
from tests.documents.helpers import fixture, upload, wait_done
from tests.fakes.openai_server import sleep
from tests.jobs.servers import OwnPostgres, OwnRedis, free_port, wait_for_port


class Processes:
    """`draftsmith` subprocesses of one test, each logging to a file."""

    def __init__(self, tmp_path: Path, database_url: str, redis_url: str, **env: str) -> None:
        self.tmp_path = tmp_path
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("DRAFTSMITH_")}
        self.env.update(
            DRAFTSMITH_DATA_DIR=str(tmp_path / "data"),
            DRAFTSMITH_DATABASE_URL=database_url,
            DRAFTSMITH_REDIS_URL=redis_url,
            DRAFTSMITH_SECRET_KEY="outage-secret-" + "x" * 40,
            DRAFTSMITH_LOG_LEVEL="info",  # the tests read "worker ready" and outage lines
            DRAFTSMITH_LOGIN_LIMIT_ACCOUNT="100/minute",
            **env,
        )
        self.running: dict[str, subprocess.Popen] = {}
        self.port = free_port()

    def start(self, name: str, *args: str) -> subprocess.Popen:
        log = open(self.tmp_path / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            [sys.executable, "-m", "draftsmith.cli", *args],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.running[name] = process
        return process

    def serve(self) -> str:
        self.start("serve", "serve", "--port", str(self.port))
        wait_for_port(self.port, "draftsmith serve", timeout=30)
        return f"http://127.0.0.1:{self.port}"

    def log(self, name: str) -> str:
        return (self.tmp_path / f"{name}.log").read_text(errors="replace")

    def alive(self, name: str) -> bool:
        return self.running[name].poll() is None

    def stop_all(self) -> None:
        for process in self.running.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.running.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


@asynccontextmanager
async def signed_in(base_url: str):
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        yield await make_user(client)


async def until(predicate, timeout: float, every: float = 0.2):
    deadline = time.monotonic() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(every)


async def all_ready(user, doc_ids: list[str]) -> bool:
    for doc_id in doc_ids:
        document = (await user.get(f"/api/v1/documents/{doc_id}")).json()
        if document.get("status") != "ready":
            return False
    return True


@pytest.fixture
def own_redis():
    redis = OwnRedis()
    redis.start()
    yield redis
    redis.stop()


@pytest.fixture
def own_postgres():
    postgres = OwnPostgres()
    postgres.init()
    postgres.start()
    upgrade(postgres.url)
    yield postgres
    postgres.remove()


@pytest.fixture
def processes(tmp_path, own_postgres, own_redis):
    running = Processes(tmp_path, own_postgres.url, own_redis.url)
    yield running
    running.stop_all()


async def test_workers_and_server_outlive_a_redis_restart(processes, own_redis):
    base_url = processes.serve()
    for n in (1, 2):
        processes.start(f"worker{n}", "worker")

    async def workers_started() -> bool:  # past their start-up checks, which need Redis
        return all("worker ready" in processes.log(f"worker{n}") for n in (1, 2))

    await until(workers_started, timeout=60)
    async with signed_in(base_url) as user:
        first = (await upload(user, fixture("tide-pools.md")))["documents"][0]["id"]
        assert (await wait_done(user, first, timeout=60))["status"] == "ready"

        own_redis.stop()
        outage_started = time.monotonic()
        queued = []
        for name in ("kelp-notes.md", "lighthouses.md", "changelog.md"):
            queued += [d["id"] for d in (await upload(user, fixture(name)))["documents"]]
            for _ in range(5):  # requests during the outage
                assert (await user.get("/api/v1/documents")).status_code == 200
        await asyncio.sleep(4)  # several poll and backoff rounds of the workers
        own_redis.start()
        back = time.monotonic()
        await until(lambda: all_ready(user, queued), timeout=45)
        print(
            f"outage {back - outage_started:.1f}s; queued work done "
            f"{time.monotonic() - back:.1f}s after Redis returned"
        )

    for name in ("worker1", "worker2", "serve"):
        assert processes.alive(name), processes.log(name)
    for name in ("worker1", "worker2"):
        log = processes.log(name)
        assert log.count("Redis is unavailable") == 1, log
        assert "Traceback" not in log, log
    assert processes.log("serve").count("Redis (the job queue) is unavailable") == 1


async def test_server_and_worker_outlive_a_postgres_restart(processes, own_postgres):
    base_url = processes.serve()
    processes.start("worker", "worker")
    async with signed_in(base_url) as user:
        first = (await upload(user, fixture("tide-pools.md")))["documents"][0]["id"]
        assert (await wait_done(user, first, timeout=60))["status"] == "ready"

        own_postgres.stop()
        answers = [await user.get("/api/v1/documents") for _ in range(5)]
        answers.append(await user.get(f"/api/v1/documents/{first}"))
        for response in answers:
            assert response.status_code == 503, response.text
            assert response.json()["code"] == "database_unavailable"
            assert int(response.headers["Retry-After"]) > 0
        await asyncio.sleep(2)  # the worker's sweep and heartbeat meet the outage too
        own_postgres.start()
        back = time.monotonic()

        async def listing_works():
            return (await user.get("/api/v1/documents")).status_code == 200

        await until(listing_works, timeout=20)
        print(f"requests served again {time.monotonic() - back:.1f}s after PostgreSQL returned")
        second = (await upload(user, fixture("kelp-notes.md")))["documents"][0]["id"]
        assert (await wait_done(user, second, timeout=45))["status"] == "ready"

    assert processes.alive("serve") and processes.alive("worker")
    assert " 500 " not in processes.log("serve")


async def test_the_work_of_a_killed_worker_resumes_within_30_seconds(
    tmp_path, own_postgres, own_redis, openai_server
):
    processes = Processes(
        tmp_path, own_postgres.url, own_redis.url, DRAFTSMITH_LLM_BASE_URL=openai_server.base_url
    )
    try:
        base_url = processes.serve()
        doomed = processes.start("doomed", "worker")
        async with signed_in(base_url) as user:
            body = await upload(user, fixture("tide-pools.md"), fixture("lighthouses.md"))
            doc_ids = [d["id"] for d in body["documents"]]
            await until(lambda: all_ready(user, doc_ids), timeout=60)
            openai_server.push(sleep(20))  # the doomed worker's first LLM call hangs
            session = await new_session(user, doc_ids, length="short")
            blog_id = await generate(user, session["id"])

            async def blog_status():
                return (await user.get(f"/api/v1/blogs/{blog_id}")).json()["status"]

            await until(lambda: _is(blog_status, "generating"), timeout=30)
            await until(lambda: _true(len(openai_server.chat_requests) == 1), timeout=30)
            processes.start("survivor", "worker")
            await asyncio.sleep(3)  # the survivor is up and idle
            doomed.send_signal(signal.SIGKILL)
            killed = time.monotonic()
            await until(lambda: _is(blog_status, "ready"), timeout=40, every=0.5)
            resumed_in = time.monotonic() - killed
            print(f"the killed worker's generation was ready {resumed_in:.1f}s after the kill")
            assert resumed_in < 30
            assert len(openai_server.chat_requests) > 1  # the survivor asked again
        assert processes.alive("survivor")
    finally:
        processes.stop_all()


async def _is(status, wanted: str) -> bool:
    return await status() == wanted


async def _true(value: bool) -> bool:
    return value
