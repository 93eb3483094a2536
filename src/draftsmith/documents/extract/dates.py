"""A document's own publication date, as ISO ``YYYY-MM-DD`` (or ``YYYY-MM``/``YYYY`` when
that is all it says), from the loose forms formats store it in: PDF ``D:20230401120000Z``,
ISO timestamps, "2023-04", a bare year. Nonsense (before 1900, in the future) is dropped:
a wrong date in a prompt is worse than none."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

__all__ = ["normalise_date", "first_date", "MIN_YEAR"]

MIN_YEAR = 1900

# 2023, 2023-04, 2023-04-01, 20230401, 2023/04/01, D:20230401120000Z, 2023-04-01T12:00:00Z
_DATE_RE = re.compile(
    r"^\s*(?:D:)?(?P<y>\d{4})(?:[-/.]?(?P<m>\d{2})(?:[-/.]?(?P<d>\d{2}))?)?(?=$|[^\d]|\d{2})"
)


def normalise_date(raw: object) -> str | None:
    """``raw`` (a string, ``date`` or ``datetime``) as ISO text, or None if unusable."""
    if isinstance(raw, datetime | date):
        return _checked(raw.year, raw.month, raw.day)
    if not isinstance(raw, str):
        return None
    m = _DATE_RE.match(raw)
    if m is None:
        return None
    y, mo, d = m.group("y"), m.group("m"), m.group("d")
    return _checked(int(y), int(mo) if mo else None, int(d) if d else None)


def first_date(*candidates: object) -> str | None:
    """The first candidate that is a usable date."""
    for raw in candidates:
        if (found := normalise_date(raw)) is not None:
            return found
    return None


def _checked(year: int, month: int | None, day: int | None) -> str | None:
    today = datetime.now(UTC).date()
    if year < MIN_YEAR or year > today.year:
        return None
    if month is None:
        return f"{year:04d}"
    if not 1 <= month <= 12 or (year, month) > (today.year, today.month):
        return None
    if day is None:
        return f"{year:04d}-{month:02d}"
    try:
        when = date(year, month, day)
    except ValueError:
        return None
    if when > today:
        return None
    return when.isoformat()
