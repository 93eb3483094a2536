"""What a request costs: Draftsmith's endpoints against a bare FastAPI hello world.

    python bench/requests.py [--seconds 8] [--connections 16] [--rounds 2]
                             [--database sqlite|postgres|both] [--streams 100]

Starts, in the same run, a bare FastAPI "hello world" under the same uvicorn and a
``draftsmith serve`` on each database (the embedded defaults, and PostgreSQL), side by side;
seeds each with a user with 200 documents and a long draft, and drives each endpoint with a
fixed number of connections: Debian's ``wrk`` when it is installed (one thread), else an
async driver of our own. Prints requests/s, p50 and p99, the server's CPU time per request
and the ratios to hello world (the best of ``--rounds`` measurements of each, as other work
shares the machine). A round runs hello world, then the endpoint on each database, so the
ratios compare runs seconds apart under the same load. Then what ``--streams`` idle event
streams (a generation that is running but says nothing) add to each server's CPU.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import NamedTuple

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT), str(ROOT / "bench")]

from load import PG_ADMIN, base_env, free_port, stop, wait_healthy  # noqa: E402
from tests.fixtures.prose import LIGHTHOUSES, TIDE_POOLS  # noqa: E402

PASSWORD = "request bench passphrase"
HELLO = """
from fastapi import FastAPI
app = FastAPI()
@app.get("/")
async def hello():
    return {"hello": "world"}
"""


@contextmanager
def hello_world(workdir: Path):
    (workdir / "hello_app.py").write_text(HELLO)
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "hello_app:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_healthy_path(base + "/", process)
        yield base, process.pid
    finally:
        stop([process])


def wait_healthy_path(url: str, process: subprocess.Popen) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise SystemExit("hello world exited")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)


@contextmanager
def draftsmith(workdir: Path, database: str):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = base_env(workdir, base)
    env["DRAFTSMITH_LOG_LEVEL"] = "error"
    with ExitStack() as stack:
        if database == "postgres":
            env["DRAFTSMITH_DATABASE_URL"] = stack.enter_context(postgres_database())
            subprocess.run([sys.executable, "-m", "draftsmith.cli", "migrate"], env=env, check=True)
        process = subprocess.Popen(
            [sys.executable, "-m", "draftsmith.cli", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
        )
        stack.callback(stop, [process])
        wait_healthy(base, process)
        yield base, process.pid, env["DRAFTSMITH_DATABASE_URL"] if database == "postgres" else ""


@contextmanager
def postgres_database():
    import asyncpg

    name = f"draftsmith_requests_{uuid.uuid4().hex[:8]}"

    async def admin(sql: str) -> None:
        connection = await asyncpg.connect(PG_ADMIN)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def seed(base: str) -> dict[str, str]:
    """A user with 200 small documents, a ~2,000-word draft with a few revisions."""
    with httpx.Client(base_url=base, timeout=300) as client:
        body = {"email": "requests@example.com", "password": PASSWORD}
        client.post("/api/v1/auth/register", json=body).raise_for_status()
        tokens = client.post("/api/v1/auth/login", json=body).json()
        client.headers["Authorization"] = f"Bearer {tokens['access_token']}"
        topics = (TIDE_POOLS, LIGHTHOUSES)
        for batch in range(20):
            files = []
            for i in range(10):
                topic = topics[(batch * 10 + i) % 2]
                text = f"# {topic.title} {batch}-{i}\n\n" + "\n\n".join(
                    f"## {h}\n\n" + " ".join(s) for h, s in topic.sections()
                )
                files.append(("files", (f"notes-{batch}-{i}.md", text.encode())))
            client.post("/api/v1/documents/upload", files=files).raise_for_status()
        ids = wait_ready(client, 200)
        session = client.post(
            "/api/v1/sessions",
            json={
                "topic": TIDE_POOLS.title,
                "document_ids": ids[:6],
                "length": "long",
                "engine": "extractive",
            },
        ).json()["id"]
        blog = client.post(f"/api/v1/sessions/{session}/generate").json()["blog_id"]
        for _ in range(600):
            current = client.get(f"/api/v1/blogs/{blog}").json()
            if current["status"] in ("ready", "failed"):
                break
            time.sleep(0.2)
        for _ in range(3):
            current = client.patch(
                f"/api/v1/blogs/{blog}",
                json={"revision": current["revision"], "markdown": current["markdown"] + "\n"},
            ).json()
        words = len(current["markdown"].split())
        return {
            "token": tokens["access_token"],
            "blog": blog,
            "blog_words": str(words),
            "session": session,
        }


def wait_ready(client: httpx.Client, count: int) -> list[str]:
    for _ in range(1200):
        items, cursor = [], None
        while True:
            params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
            page = client.get("/api/v1/documents", params=params).json()
            items += page["items"]
            cursor = page["next_cursor"]
            if not cursor:
                break
        if len(items) >= count and all(d["status"] in ("ready", "failed") for d in items):
            return [d["id"] for d in items if d["status"] == "ready"]
        time.sleep(0.5)
    raise SystemExit("documents did not finish processing")


def measure(url: str, headers: dict[str, str], seconds: float, connections: int, pid: int) -> dict:
    """The load's numbers, and the server's CPU time per request (user and system, from
    /proc): steadier than requests/s when other work shares the machine."""
    before = cpu_seconds(pid)
    if shutil.which("wrk"):
        result = measure_wrk(url, headers, seconds, connections)
    else:
        result = asyncio.run(measure_async(url, headers, seconds, connections))
    after = cpu_seconds(pid)
    used = None if before is None or after is None else after - before
    result["cpu_us"] = used * 1e6 / result["requests"] if used and result["requests"] else None
    return result


def cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # not Linux
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure_wrk(url: str, headers: dict[str, str], seconds: float, connections: int) -> dict:
    args = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    out = subprocess.run(args + [url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    return {
        "rps": rps,
        "requests": requests,
        "p50": wrk_ms(out, "50%"),
        "p99": wrk_ms(out, "99%"),
        "errors": int(errors.group(1)) if errors else 0,
        "socket_errors": sum(map(int, socket_errors.groups())) if socket_errors else 0,
    }


def wrk_ms(out: str, label: str) -> float:
    value, unit = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


async def measure_async(
    url: str, headers: dict[str, str], seconds: float, connections: int
) -> dict:
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=connections)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=30) as client:
        deadline = time.perf_counter() + seconds

        async def loop() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                response = await client.get(url)
                latencies.append(time.perf_counter() - started)
                errors += response.status_code >= 400

        started = time.perf_counter()
        await asyncio.gather(*(loop() for _ in range(connections)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "requests": len(latencies),
        "p50": latencies[len(latencies) // 2] * 1000,
        "p99": latencies[int(len(latencies) * 0.99)] * 1000,
        "errors": errors,
        "socket_errors": 0,
    }


def endpoints(base: str, seeded: dict[str, str]) -> list[tuple[str, str, dict[str, str]]]:
    bearer = {"Authorization": f"Bearer {seeded['token']}"}
    cookie = {"Cookie": f"ds_access={seeded['token']}"}
    blog = seeded["blog"]
    return [
        ("/healthz", f"{base}/healthz", {}),
        ("/auth/me (bearer)", f"{base}/api/v1/auth/me", bearer),
        ("/auth/me (cookie)", f"{base}/api/v1/auth/me", cookie),
        ("documents, 20 of 200", f"{base}/api/v1/documents?limit=20", bearer),
        (f"blog ({seeded['blog_words']} words)", f"{base}/api/v1/blogs/{blog}", bearer),
        ("search", f"{base}/api/v1/documents?q=lighthouse&limit=20", bearer),
        ("revisions list", f"{base}/api/v1/blogs/{blog}/revisions", bearer),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2, help="best of this many runs each")
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--streams", type=int, default=100, help="idle event streams (0: skip)")
    args = parser.parse_args()
    driver = "wrk (1 thread)" if shutil.which("wrk") else "an async httpx driver"
    print(
        f"{args.connections} connections, {args.seconds:g} s each, best of {args.rounds}, "
        f"driven by {driver}; load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    databases = ["sqlite", "postgres"] if args.database == "both" else [args.database]

    def rounds(targets: dict[str, tuple[str, dict[str, str], int]]) -> dict[str, dict]:
        """The best of the rounds for each target. A round runs hello world, then every
        target one after the other (in turns: first one first, then the other), so each
        ratio, to hello world or between the databases, compares runs a few seconds apart
        under the same load from the other work on the machine."""
        runs: dict[str, list[dict]] = {name: [] for name in targets}
        for turn in range(args.rounds):
            paired = measure(hello + "/", {}, min(args.seconds, 4), args.connections, hello_pid)
            order = list(targets) if turn % 2 == 0 else list(reversed(targets))
            for name in order:
                url, headers, pid = targets[name]
                result = measure(url, headers, args.seconds, args.connections, pid)
                runs[name].append(
                    {
                        **result,
                        "hello_rps": paired["rps"],
                        "hello_p99": paired["p99"],
                        "hello_cpu_us": paired["cpu_us"],
                    }
                )
        return {name: max(found, key=lambda result: result["rps"]) for name, found in runs.items()}

    results: dict[tuple[str, int], tuple[str, dict]] = {}
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        hello, hello_pid = stack.enter_context(hello_world(workdir))
        servers: dict[str, Server] = {}  # side by side: their rows are measured seconds apart
        for database in databases:
            base, pid, url = stack.enter_context(draftsmith(workdir / database, database))
            servers[database] = Server(base, pid, url or sqlite_url(workdir / database), seed(base))
        print(
            f"\n{'endpoint':<34}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'× hello':>9}"
            f"{'hello':>8}{'hello p99':>10}{'CPU µs':>8}{'× hello':>8}  errors"
        )
        row("bare FastAPI hello world", rounds({"hello": (hello + "/", {}, hello_pid)})["hello"])
        print(
            "(hello p99: the paired hello-world run's p99 under the same load; CPU µs: the "
            "server's CPU time per request, × hello: hello world's over this one's)"
        )
        listed = [endpoints(server.base, server.seeded) for server in servers.values()]
        for index, same_endpoint in enumerate(zip(*listed, strict=True)):
            targets = {
                database: (url, headers, server.pid)
                for (database, server), (_, url, headers) in zip(
                    servers.items(), same_endpoint, strict=True
                )
            }
            labels = dict(zip(servers, (label for label, _, _ in same_endpoint), strict=True))
            for database, result in rounds(targets).items():
                results[database, index] = (labels[database], result)
                row(f"{labels[database]} [{database}]", result)
        for database, server in servers.items():
            if args.streams:
                print(f"-- {database}: ", end="")
                idle_streams(server.base, server.pid, server.database_url, server.seeded, args)
        compare(results)
        print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


class Server(NamedTuple):
    base: str
    pid: int
    database_url: str
    seeded: dict[str, str]


def compare(results: dict) -> None:
    """PostgreSQL's requests/s against SQLite's, endpoint by endpoint (target: within 1.5×),
    and SQLite's server CPU time per request against PostgreSQL's."""
    indexes = [index for database, index in results if database == "postgres"]
    if not indexes or not any(database == "sqlite" for database, _ in results):
        return
    print(f"\n{'PostgreSQL / SQLite':<34}{'req/s':>9}{'CPU':>9}")
    for index in indexes:
        label, postgres = results["postgres", index]
        sqlite = results["sqlite", index][1]
        cpu = (
            f"{sqlite['cpu_us'] / postgres['cpu_us']:>9.2f}"
            if sqlite["cpu_us"] and postgres["cpu_us"]
            else f"{'-':>9}"
        )
        print(f"{label:<34}{postgres['rps'] / sqlite['rps']:>9.2f}{cpu}")


def sqlite_url(workdir: Path) -> str:
    return f"sqlite+aiosqlite:///{workdir / 'data' / 'draftsmith.db'}"


def idle_streams(base: str, pid: int, database_url: str, seeded: dict, args) -> None:
    """Server CPU (share of one core) over a quiet spell, without and with ``--streams``
    open event streams of a generation that is running but says nothing."""
    import psutil

    session = asyncio.run(stalled_generation(database_url, seeded["blog"]))
    server = psutil.Process(pid)
    spell = max(args.seconds, 10)

    def cpu_share() -> float:
        before, started = server.cpu_times(), time.perf_counter()
        time.sleep(spell)
        after = server.cpu_times()
        used = (after.user - before.user) + (after.system - before.system)
        return used / (time.perf_counter() - started) * 100

    quiet = cpu_share()
    url = f"{base}/api/v1/sessions/{session}/events"
    headers = {"Authorization": f"Bearer {seeded['token']}"}
    opened, stop = threading.Event(), threading.Event()
    counts: dict[str, int] = {}
    thread = threading.Thread(
        target=lambda: asyncio.run(hold_streams(url, headers, args.streams, opened, stop, counts))
    )
    thread.start()
    opened.wait(60)
    time.sleep(1)  # the replay is over
    busy = cpu_share()
    stop.set()
    thread.join(30)
    print(
        f"{counts.get('open', 0)} idle event streams: server CPU {quiet:.1f}% of a core "
        f"without, {busy:.1f}% with (+{busy - quiet:.1f} points)"
    )


async def stalled_generation(database_url: str, template_blog: str) -> str:
    """A second blog of the seeded session, left 'generating' under a long lease, so its
    stream stays open and idle (no runner claims it)."""
    from datetime import timedelta

    from sqlalchemy import select

    import draftsmith.models  # noqa: F401  (every table, for the foreign keys)
    from draftsmith.blogs.models import Blog
    from draftsmith.db import create_engine, session_factory, utcnow

    engine = create_engine(database_url.replace("postgresql://", "postgresql+asyncpg://", 1))
    try:
        async with session_factory(engine)() as db:
            template = await db.get(Blog, template_blog)
            db.add(
                Blog(
                    user_id=template.user_id,
                    session_id=template.session_id,
                    engine=template.engine,
                    status="generating",
                    claimed_at=utcnow(),
                    lease_expires_at=utcnow() + timedelta(hours=1),
                    enqueued_at=utcnow(),
                )
            )
            await db.commit()
            session = await db.scalar(select(Blog.session_id).where(Blog.id == template_blog))
    finally:
        await engine.dispose()
    return session


async def hold_streams(url, headers, count, opened, stop, counts) -> None:
    limits = httpx.Limits(max_connections=count + 4)
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=None) as client:

        async def one() -> None:
            async with client.stream("GET", url) as response:
                response.raise_for_status()
                counts["open"] = counts.get("open", 0) + 1
                if counts["open"] == count:
                    opened.set()
                async for _ in response.aiter_lines():
                    if stop.is_set():
                        return

        tasks = [asyncio.create_task(one()) for _ in range(count)]
        await asyncio.to_thread(stop.wait)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def row(label: str, result: dict) -> None:
    """One line: the ratio is to the hello-world run paired with this result's round."""
    errors = result["errors"] + result["socket_errors"]
    cpu, hello_cpu = result["cpu_us"], result["hello_cpu_us"]
    cpu_columns = f"{cpu:>8.0f}{hello_cpu / cpu:>8.2f}" if cpu and hello_cpu else f"{'-':>16}"
    print(
        f"{label:<34}{result['rps']:>9.0f}{result['p50']:>9.1f}{result['p99']:>9.1f}"
        f"{result['rps'] / result['hello_rps']:>9.2f}{result['hello_rps']:>8.0f}"
        f"{result['hello_p99']:>10.1f}{cpu_columns}  {errors}"
    )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
