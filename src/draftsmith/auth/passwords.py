"""Password hashing (argon2id via pwdlib) and the password policy.

Argon2 is deliberately slow (about 0.1-0.4 s of CPU per check here), so it never runs on the
event loop: each hash or check runs in a worker thread (argon2 releases the GIL), at most one per
core at once. A request that finds every slot taken waits up to ``MAX_WAIT_S`` for one, then gets
503 ``busy`` with ``Retry-After``: other requests keep their share of the machine.
"""

from __future__ import annotations

import asyncio
import os
import re
import weakref
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

import anyio
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from draftsmith.errors import ApiError

T = TypeVar("T")

MIN_LENGTH = 12
MAX_LENGTH = 256  # argon2 handles more, but nobody types this much; refuse before hashing

hasher = PasswordHash((Argon2Hasher(),))
# Verified when the email is unknown, so both answers cost the same work.
_DUMMY_HASH = hasher.hash("draftsmith-timing-equaliser")


class WeakPassword(ValueError):
    """The password breaks the policy; the message says how."""


@lru_cache(maxsize=1)
def _common() -> frozenset[str]:
    path = Path(__file__).with_name("common_passwords.txt")
    return frozenset(line.strip().lower() for line in path.read_text().splitlines() if line.strip())


def check_policy(password: str, email: str | None = None) -> None:
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"Use at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"Use at most {MAX_LENGTH} characters.")
    lowered = password.lower()
    if lowered in _common() or re.fullmatch(r"(.)\1*", lowered) or _is_sequence(lowered):
        raise WeakPassword("This password is too common; choose one that is harder to guess.")
    if email and lowered == email.lower():
        raise WeakPassword("The password must not be your email address.")


def _is_sequence(text: str) -> bool:
    """A run like ``123456789012`` or ``abcdefghijkl`` (either direction)."""
    steps = {ord(b) - ord(a) for a, b in zip(text, text[1:], strict=False)}
    return len(steps) == 1 and steps <= {1, -1}


SLOTS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
MAX_WAIT_S = 5.0
RETRY_AFTER_S = 2

# One semaphore per event loop (tests and the CLI run several loops in one process).
_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


async def _in_thread(work: Callable[..., T], *args: object) -> T:
    """Run argon2 work in a thread once a slot is free; 503 ``busy`` after MAX_WAIT_S."""
    loop = asyncio.get_running_loop()
    slots = _slots.get(loop)
    if slots is None:
        slots = _slots[loop] = asyncio.Semaphore(SLOTS)
    try:
        async with asyncio.timeout(MAX_WAIT_S):
            await slots.acquire()
    except TimeoutError:
        raise ApiError(
            503,
            "busy",
            "The server is busy checking other passwords; try again in a moment.",
            {"Retry-After": str(RETRY_AFTER_S)},
        ) from None
    try:
        # not abandoned on cancellation: the slot is freed only when the thread is done
        return await anyio.to_thread.run_sync(work, *args)
    finally:
        slots.release()


async def hash_password(password: str) -> str:
    return await _in_thread(hasher.hash, password)


async def verify_password(password: str, password_hash: str | None) -> tuple[bool, str | None]:
    """Check a password; returns (valid, new hash when the parameters changed)."""
    if len(password) > MAX_LENGTH:
        await _in_thread(hasher.verify, "x", _DUMMY_HASH)  # the timing of a normal failure
        return False, None
    if password_hash is None:
        await _in_thread(hasher.verify, password, _DUMMY_HASH)
        return False, None
    return await _in_thread(hasher.verify_and_update, password, password_hash)
