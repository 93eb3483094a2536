"""One log line when a service goes away and one when it returns, however many calls
fail in between (Redis for jobs and the token denylist, the database for the sweep)."""

from __future__ import annotations

import logging
import time

log = logging.getLogger("draftsmith.outage")


class Outage:
    """Logs a service going away once, and its return once, however many calls fail between;
    says how long to wait before the next try (backoff doubling up to ``max_wait`` s)."""

    def __init__(self, what: str, max_wait: float = 30.0) -> None:
        self.what = what
        self.max_wait = max_wait
        self.failures = 0
        self.since = 0.0
        self.retry_at = 0.0

    @property
    def down(self) -> bool:
        return self.failures > 0

    def failed(self, exc: BaseException) -> float:
        """Record a failed call; returns the seconds to wait before the next try."""
        now = time.monotonic()
        if not self.failures:
            self.since = now
            log.warning("%s is unavailable (%s); retrying with backoff", self.what, exc)
        self.failures += 1
        wait = min(self.max_wait, 0.5 * 2 ** min(self.failures - 1, 10))
        self.retry_at = now + wait
        return wait

    def recovered(self) -> None:
        if self.failures:
            down_for = time.monotonic() - self.since
            log.info("%s is back after %.1f s", self.what, down_for)
        self.failures = 0
