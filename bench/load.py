"""Load benchmark: simulated users doing what people do, against real processes.

    python bench/load.py [--users 50] [--minutes 5] [--ramp 20] [--setup embedded|scaled|both]

Each user signs in, then loops over a weighted mix: list documents, search, read a
document, upload a small or a medium file, create a session and generate (following the
events to the end), read a blog, edit it, export it. Printed per setup: p50/p95/p99 per
operation, answers by status, and a final audit that every upload and every accepted
generation reached a terminal state (nothing lost).

Setups: (a) ``embedded`` — one ``draftsmith serve`` on SQLite with its in-process worker;
(b) ``scaled`` — PostgreSQL + Redis, ``serve --workers 2`` and two ``draftsmith worker``
processes. Targets on a 2-core machine: zero 5xx, nothing lost, p95 of list, read and
search under 300 ms on (b).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from tests.fixtures.make import fixture_path  # noqa: E402
from tests.fixtures.prose import LIGHTHOUSES, TIDE_POOLS  # noqa: E402

PASSWORD = "load bench passphrase"
TOPICS = (TIDE_POOLS, LIGHTHOUSES)
PG_ADMIN = os.environ.get("DRAFTSMITH_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("DRAFTSMITH_BENCH_REDIS", "redis://127.0.0.1:6379/5")
MIX = {  # operation -> weight
    "list": 20,
    "search": 10,
    "read_document": 8,
    "upload_small": 6,
    "upload_medium": 2,
    "generate": 5,
    "read_blog": 15,
    "edit_blog": 6,
    "export": 4,
    "list_blogs": 6,
}
TERMINAL_DOCUMENT = {"ready", "failed"}
TERMINAL_BLOG = {"ready", "failed", "cancelled", "outline_ready"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(base: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with {process.returncode}")
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit("the server did not become healthy")


def start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    handle = log.open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "draftsmith.cli", *args], env=env, stdout=handle, stderr=handle
    )


@contextmanager
def embedded(workdir: Path) -> Iterator[str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = base_env(workdir, base)
    server = start(["serve", "--port", str(port)], env, workdir / "serve.log")
    try:
        wait_healthy(base, server)
        yield base
    finally:
        stop([server])


@contextmanager
def scaled(workdir: Path) -> Iterator[str]:
    import asyncpg
    import redis

    name = f"draftsmith_load_{uuid.uuid4().hex[:8]}"

    async def admin(sql: str) -> None:
        connection = await asyncpg.connect(PG_ADMIN)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    redis.Redis.from_url(REDIS).flushdb()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = base_env(workdir, base)
    env["DRAFTSMITH_DATABASE_URL"] = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    env["DRAFTSMITH_REDIS_URL"] = REDIS
    processes: list[subprocess.Popen] = []
    try:
        subprocess.run(
            [sys.executable, "-m", "draftsmith.cli", "migrate"], env=env, check=True, timeout=120
        )
        processes.append(
            start(["serve", "--port", str(port), "--workers", "2"], env, workdir / "serve.log")
        )
        for i in range(2):
            processes.append(start(["worker"], env, workdir / f"worker{i}.log"))
        wait_healthy(base, processes[0])
        yield base
    finally:
        stop(processes)
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def base_env(workdir: Path, base: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRAFTSMITH_")}
    env.update(
        DRAFTSMITH_DATA_DIR=str(workdir / "data"),
        DRAFTSMITH_BASE_URL=base,
        DRAFTSMITH_LOG_LEVEL="warning",
        # a load run is many users from one address: per-address sign-up and sign-in
        # limits are not what is measured here
        DRAFTSMITH_REGISTER_LIMIT_ADDRESS="100000/hour",
        DRAFTSMITH_LOGIN_LIMIT_ADDRESS="100000/minute",
    )
    return env


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


class Recorder:
    def __init__(self) -> None:
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.statuses: dict[str, Counter[int]] = defaultdict(Counter)
        self.failures: Counter[str] = Counter()

    def add(self, op: str, seconds: float, status: int) -> None:
        self.latency[op].append(seconds)
        self.statuses[op][status] += 1

    def table(self) -> str:
        lines = [f"  {'operation':<17}{'n':>6}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}  statuses"]
        for op in sorted(self.latency):
            xs = sorted(self.latency[op])
            pick = lambda q, xs=xs: xs[min(len(xs) - 1, int(q * len(xs)))] * 1000  # noqa: E731
            statuses = ", ".join(f"{s}×{n}" for s, n in sorted(self.statuses[op].items()))
            lines.append(
                f"  {op:<17}{len(xs):>6}{pick(0.5):>9.0f}{pick(0.95):>9.0f}{pick(0.99):>9.0f}"
                f"  {statuses}"
            )
        return "\n".join(lines)


class User:
    """One simulated person with their own signed-in client and what they made."""

    def __init__(self, base: str, index: int, rec: Recorder, rnd: random.Random) -> None:
        self.client = httpx.AsyncClient(base_url=base, timeout=120)
        self.email = f"load{index}-{uuid.uuid4().hex[:6]}@example.com"
        self.rec, self.rnd = rec, rnd
        self.documents: list[str] = []
        self.ready: list[str] = []
        self.blogs: list[str] = []
        self.uploads = 0

    async def call(self, op: str, method: str, url: str, **kwargs) -> httpx.Response:
        started = time.perf_counter()
        try:
            response = await self.client.request(method, url, **kwargs)
        except httpx.HTTPError:
            self.rec.add(op, time.perf_counter() - started, 0)
            raise
        self.rec.add(op, time.perf_counter() - started, response.status_code)
        return response

    async def sign_in(self) -> None:
        body = {"email": self.email, "password": PASSWORD}
        await self.call("register", "POST", "/api/v1/auth/register", json=body)
        r = await self.call("login", "POST", "/api/v1/auth/login", json=body)
        r.raise_for_status()
        self.client.headers["Authorization"] = f"Bearer {r.json()['access_token']}"

    async def upload(self, op: str, name: str, data: bytes) -> None:
        r = await self.call(op, "POST", "/api/v1/documents/upload", files={"files": (name, data)})
        if r.status_code == 202:
            self.documents += [d["id"] for d in r.json()["documents"]]

    async def upload_small(self) -> None:
        topic = self.rnd.choice(TOPICS)
        sections = topic.sections()
        self.uploads += 1
        text = f"# {topic.title}\n\nNotes {self.email} #{self.uploads}.\n\n" + "\n\n".join(
            f"## {h}\n\n" + " ".join(s) for h, s in sections
        )
        await self.upload("upload_small", "notes.md", text.encode())

    async def upload_medium(self) -> None:
        self.uploads += 1
        data = MEDIUM + f"\n% {self.email} {self.uploads}\n".encode()  # distinct bytes
        await self.upload("upload_medium", "report.pdf", data)

    async def refresh_ready(self) -> None:
        r = await self.call("list", "GET", "/api/v1/documents", params={"limit": 20})
        if r.status_code == 200:
            self.ready = [d["id"] for d in r.json()["items"] if d["status"] == "ready"]

    async def generate(self) -> None:
        if not self.ready:
            return await self.upload_small()
        docs = self.rnd.sample(self.ready, min(2, len(self.ready)))
        topic = self.rnd.choice(TOPICS).title
        body = {"topic": topic, "document_ids": docs, "length": "short", "engine": "extractive"}
        r = await self.call("create_session", "POST", "/api/v1/sessions", json=body)
        if r.status_code != 201:
            return
        session = r.json()["id"]
        r = await self.call("generate", "POST", f"/api/v1/sessions/{session}/generate")
        if r.status_code != 202:
            return
        blog = r.json()["blog_id"]
        self.blogs.append(blog)
        started = time.perf_counter()
        url = f"/api/v1/sessions/{session}/events"
        async with self.client.stream("GET", url, params={"blog_id": blog}) as stream:
            async for line in stream.aiter_lines():
                if line.startswith("event:") and line.split(":", 1)[1].strip() in (
                    "done",
                    "error",
                ):
                    break
        self.rec.add("generate_to_done", time.perf_counter() - started, stream.status_code)

    async def step(self) -> None:
        op = self.rnd.choices(list(MIX), weights=list(MIX.values()))[0]
        if op == "list":
            await self.refresh_ready()
        elif op == "search":
            q = self.rnd.choice(TOPICS).subjects[0].split()[-1]
            await self.call("search", "GET", "/api/v1/documents", params={"q": q})
        elif op == "read_document" and self.documents:
            await self.call("read_document", "GET", f"/api/v1/documents/{self.pick_doc()}")
        elif op == "upload_small" or (op == "read_document" and not self.documents):
            await self.upload_small()
        elif op == "upload_medium":
            await self.upload_medium()
        elif op == "generate":
            await self.generate()
        elif op == "list_blogs":
            await self.call("list_blogs", "GET", "/api/v1/blogs", params={"limit": 20})
        elif self.blogs:
            await self.blog_step(op, self.rnd.choice(self.blogs))

    def pick_doc(self) -> str:
        return self.rnd.choice(self.documents)

    async def blog_step(self, op: str, blog: str) -> None:
        if op == "read_blog":
            await self.call("read_blog", "GET", f"/api/v1/blogs/{blog}")
        elif op == "export":
            fmt = self.rnd.choice(["md", "html", "docx"])
            await self.call("export", "GET", f"/api/v1/blogs/{blog}/export", params={"format": fmt})
        elif op == "edit_blog":
            r = await self.call("read_blog", "GET", f"/api/v1/blogs/{blog}")
            if r.status_code == 200 and r.json()["status"] == "ready":
                current = r.json()
                body = {"revision": current["revision"], "markdown": current["markdown"] + "\n"}
                await self.call("edit_blog", "PATCH", f"/api/v1/blogs/{blog}", json=body)


async def run_user(user: User, deadline: float, arrive_after: float) -> None:
    await asyncio.sleep(arrive_after)
    try:
        await user.sign_in()
        await user.upload_small()
        while time.monotonic() < deadline:
            try:
                await user.step()
            except httpx.HTTPError as exc:
                user.rec.failures[type(exc).__name__] += 1
            await asyncio.sleep(user.rnd.uniform(0.2, 1.0))  # a person reads between clicks
    except httpx.HTTPError as exc:
        user.rec.failures[f"sign-in {type(exc).__name__}"] += 1


async def audit(
    users: list[User], outcomes: Counter[str], seconds: float = 300
) -> tuple[int, int, Counter[str]]:
    """Wait for every upload and generation to reach a terminal state; count what didn't,
    and in ``outcomes`` how the generations ended (status, or error code when failed)."""
    pending: Counter[str] = Counter()
    deadline = time.monotonic() + seconds
    while True:
        pending.clear()
        outcomes.clear()
        for user in users:
            for doc in user.documents:
                r = await user.client.get(f"/api/v1/documents/{doc}")
                if r.status_code != 200 or r.json()["status"] not in TERMINAL_DOCUMENT:
                    pending[f"document {r.status_code} {r.json().get('status')}"] += 1
            for blog in user.blogs:
                r = await user.client.get(f"/api/v1/blogs/{blog}")
                if r.status_code != 200 or r.json()["status"] not in TERMINAL_BLOG:
                    pending[f"blog {r.status_code} {r.json().get('status')}"] += 1
                else:
                    outcomes[r.json().get("error_code") or r.json()["status"]] += 1
        if not pending or time.monotonic() > deadline:
            break
        await asyncio.sleep(2)
    documents = sum(len(u.documents) for u in users)
    blogs = sum(len(u.blogs) for u in users)
    return documents, blogs, pending


async def drive(base: str, users: int, minutes: float, seed: int, ramp: float) -> None:
    """Users arrive evenly over ``ramp`` seconds (people don't all sign in in the same
    instant), then work until the deadline."""
    rec = Recorder()
    people = [User(base, i, rec, random.Random(seed + i)) for i in range(users)]
    deadline = time.monotonic() + minutes * 60
    started = time.monotonic()
    await asyncio.gather(*(run_user(u, deadline, ramp * i / users) for i, u in enumerate(people)))
    elapsed = time.monotonic() - started
    outcomes: Counter[str] = Counter()
    documents, blogs, pending = await audit(people, outcomes)
    for u in people:
        await u.client.aclose()
    total = sum(len(v) for v in rec.latency.values())
    errors = Counter(
        s
        for counts in rec.statuses.values()
        for s, n in counts.items()
        for _ in range(n)
        if s >= 500
    )
    print(f"  {users} users, {elapsed:.0f} s, {total} requests ({total / elapsed:.1f}/s)")
    print(rec.table())
    print(f"  5xx answers: {sum(errors.values())} {dict(errors) or ''}")
    print(f"  transport failures: {dict(rec.failures) or 'none'}")
    print(f"  generations ended: {dict(outcomes.most_common())}")
    lost = sum(pending.values())
    print(
        f"  audit: {documents} uploads, {blogs} generations accepted; "
        f"{'nothing lost' if not lost else f'{lost} not finished: {dict(pending)}'}"
    )


MEDIUM = b""


def main() -> None:
    global MEDIUM
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--setup", choices=["embedded", "scaled", "both"], default="both")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--ramp", type=float, default=20, help="seconds over which users arrive")
    args = parser.parse_args()
    MEDIUM = fixture_path("report.pdf").read_bytes()
    setups = {"embedded": embedded, "scaled": scaled}
    chosen = list(setups) if args.setup == "both" else [args.setup]
    for name in chosen:
        with ExitStack() as stack:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            print(f"\n{name}: ", end="", flush=True)
            base = stack.enter_context(setups[name](workdir))
            print(base)
            asyncio.run(drive(base, args.users, args.minutes, args.seed, args.ramp))


if __name__ == "__main__":
    main()
