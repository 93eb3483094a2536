"""Throwaway Redis and PostgreSQL servers of one test, to stop and start at will."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time

from tests.conftest import service_missing


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, what: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not start on port {port}")


class OwnRedis:
    """A redis-server on a free port that keeps nothing on disk."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            service_missing("redis-server", FileNotFoundError("redis-server is not installed"))
        args = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen([binary, *args], stdout=subprocess.DEVNULL)
        wait_for_port(self.port, "redis-server")

    def stop(self) -> None:
        if self.process:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


class OwnPostgres:
    """A PostgreSQL cluster in a temporary directory on a free port (initdb + pg_ctl).

    As root, the server binaries run as the ``postgres`` user, who owns the directory."""

    def __init__(self) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not found:
            service_missing("PostgreSQL binaries", FileNotFoundError("no pg_ctl found"))
        self.bin = os.path.dirname(found[-1])
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="draftsmith-pg-")
        self.data = os.path.join(self.dir, "data")
        self.url = f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(
            [*self.as_user, os.path.join(self.bin, tool), *args],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def init(self) -> None:
        self._run("initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "--no-sync")

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} -c fsync=off"
        log = os.path.join(self.dir, "log")
        self._run("pg_ctl", "-D", self.data, "-o", options, "-l", log, "-w", "start")
        wait_for_port(self.port, "PostgreSQL")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", self.data, "-m", mode, "-w", "stop")

    def remove(self) -> None:
        try:
            self.stop("immediate")
        except subprocess.CalledProcessError:
            pass  # not running
        shutil.rmtree(self.dir, ignore_errors=True)
