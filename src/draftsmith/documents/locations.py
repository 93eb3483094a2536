"""Where an offset of a document's extracted text lies: page, printed page label, heading path.

Read from the sections stored with the document at ingest (``Document.sections``);
documents processed before page labels and paths were stored fall back to the
page number and the section's own heading.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .extract import Extraction

__all__ = [
    "Location",
    "stored_sections",
    "stored_location",
    "stored_locations",
    "location_at",
    "locate",
]


def stored_sections(extraction: Extraction) -> list[dict[str, Any]]:
    """The sections as ``Document.sections`` keeps them (offsets, page, label, path)."""
    return [
        {
            "heading": s.heading,
            "page": s.page,
            "page_label": extraction.page_label(s.page),
            "path": s.path,
            "start": s.start,
            "end": s.end,
        }
        for s in extraction.sections
    ]


@dataclass(frozen=True, slots=True)
class Location:
    """Where an offset lies: its page (and printed label) and heading path."""

    page: int | None = None
    page_label: str | None = None
    section: str | None = None


def stored_location(section: dict[str, Any]) -> Location:
    """The location a stored section records (older rows: page number, own heading)."""
    page = section.get("page")
    page = page if isinstance(page, int) and not isinstance(page, bool) else None
    label = section.get("page_label") or (None if page is None else str(page))
    return Location(page, label, section.get("path") or section.get("heading"))


def stored_locations(
    sections: list[dict[str, Any]] | None, length: int
) -> list[tuple[int, Location]]:
    """(start, location) of the stored sections, in text order."""
    out = []
    for s in sections or []:
        start = s.get("start")
        if isinstance(start, int) and 0 <= start <= length:
            out.append((start, stored_location(s)))
    return sorted(out, key=lambda item: item[0])


def location_at(sections: list[tuple[int, Location]], offset: int) -> Location | None:
    """The location of the last section starting at or before ``offset``."""
    found = None
    for start, location in sections:
        if start > offset:
            break
        found = location
    return found


def locate(sections: list[dict[str, Any]] | None, offset: int) -> Location | None:
    """The location of ``offset`` in a document with these stored sections."""
    return location_at(stored_locations(sections, 1 << 62), offset)
