"""A real `draftsmith serve` process on a loopback port, with a signed-in API client."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

PASSWORD = "bench passphrase 1"


@dataclass
class Served:
    process: subprocess.Popen
    client: httpx.Client  # signed in: sends the bearer token

    @property
    def pid(self) -> int:
        return self.process.pid


@contextmanager
def served(**settings: str) -> Iterator[Served]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as data:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DRAFTSMITH_")}
        env.update(
            DRAFTSMITH_DATA_DIR=data, DRAFTSMITH_LOG_LEVEL="warning", DRAFTSMITH_BASE_URL=base
        )
        env.update({f"DRAFTSMITH_{k.upper()}": v for k, v in settings.items()})
        process = subprocess.Popen(
            [sys.executable, "-m", "draftsmith.cli", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
        )
        try:
            for _ in range(300):
                try:
                    httpx.get(base + "/healthz", timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            with httpx.Client(base_url=base, timeout=120) as client:
                client.post(
                    "/api/v1/auth/register",
                    json={"email": "bench@example.com", "password": PASSWORD},
                )
                token = client.post(
                    "/api/v1/auth/login", json={"email": "bench@example.com", "password": PASSWORD}
                ).json()
                client.headers["Authorization"] = f"Bearer {token['access_token']}"
                yield Served(process, client)
        finally:
            process.terminate()
            process.wait(timeout=30)
