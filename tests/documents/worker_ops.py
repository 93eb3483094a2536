"""Operations the isolation tests run in the extraction worker, by ``"module:function"``
reference (the shipped worker knows only the extraction operations)."""

from __future__ import annotations

import os
import signal
import time

SLEEP = f"{__name__}:sleep"
ALLOCATE = f"{__name__}:allocate"
CRASH = f"{__name__}:crash"
PID = f"{__name__}:pid"
ALL = (SLEEP, ALLOCATE, CRASH, PID)


def sleep(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def allocate(mb: int) -> int:
    blob = bytearray(mb * 1024 * 1024)
    return len(blob)


def crash() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def pid() -> int:
    return os.getpid()
