"""Password hashing (argon2id via pwdlib) and the password policy."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

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


def hash_password(password: str) -> str:
    return hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> tuple[bool, str | None]:
    """Check a password; returns (valid, new hash when the parameters changed)."""
    if len(password) > MAX_LENGTH:
        hasher.verify("x", _DUMMY_HASH)  # keep the timing of a normal failure
        return False, None
    if password_hash is None:
        hasher.verify(password, _DUMMY_HASH)
        return False, None
    return hasher.verify_and_update(password, password_hash)
