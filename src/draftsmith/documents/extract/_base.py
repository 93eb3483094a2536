"""Shared types and helpers for the per-format extractors.

Kept free of heavy imports: the isolation worker and the chunker import it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from draftsmith.text.words import word_count

__all__ = [
    "Section",
    "Extraction",
    "ExtractionError",
    "ENCRYPTED",
    "NO_TEXT_LAYER",
    "NO_TEXT",
    "FINAL_CODES",
    "DocBuilder",
    "HeadingPath",
    "drop_title",
    "PATH_SEPARATOR",
]


@dataclass(slots=True)
class Section:
    """A contiguous part of the extracted Markdown.

    ``start``/``end`` are character offsets into ``Extraction.markdown`` and
    ``text == markdown[start:end]``.  ``page`` is 1-based (PDF only).
    ``path`` is the heading path, outermost first (``"Installation › Linux"``).
    """

    heading: str | None
    page: int | None
    text: str
    start: int
    end: int
    path: str | None = None


#: joins the headings of a section path
PATH_SEPARATOR = " › "


def drop_title(sections: list[Section]) -> list[Section]:
    """Paths without the document's title: when every path starts with the first
    section's single heading ("Guide › Install", "Guide › Usage"), it is dropped
    from the others ("Install", "Usage")."""
    paths = [s.path for s in sections if s.path]
    if len(paths) < 2 or PATH_SEPARATOR in paths[0]:
        return sections
    prefix = paths[0] + PATH_SEPARATOR
    if not all(p.startswith(prefix) for p in paths[1:]):
        return sections
    for s in sections:
        if s.path and s.path.startswith(prefix):
            s.path = s.path[len(prefix) :]
    return sections


class HeadingPath:
    """The headings in force while reading a document in order: ``enter(title, level)``
    returns the path of the new heading (its ancestors are the open headings of a
    lower level)."""

    def __init__(self) -> None:
        self._open: list[tuple[int, str]] = []

    def enter(self, title: str, level: int) -> str:
        while self._open and self._open[-1][0] >= level:
            self._open.pop()
        self._open.append((level, title))
        return PATH_SEPARATOR.join(t for _, t in self._open)


@dataclass(slots=True)
class Extraction:
    markdown: str
    sections: list[Section]
    page_count: int | None
    word_count: int
    warnings: list[str] = field(default_factory=list)
    #: the label printed on each page (PDF page labels), by page index; None if undefined
    page_labels: list[str] | None = None
    #: the document's own publication date (ISO, ``YYYY[-MM[-DD]]``), None when unknown
    date: str | None = None

    def page_label(self, page: int | None) -> str | None:
        """The printed label of 1-based ``page``, else its number as a string."""
        if page is None:
            return None
        labels = self.page_labels
        if labels and 0 < page <= len(labels) and labels[page - 1]:
            return labels[page - 1]
        return str(page)

    # -- cheap transport across a process boundary ---------------------------
    # Section texts are slices of ``markdown``; sending them would double the
    # payload, so only offsets travel and the texts are re-sliced on arrival.
    def to_wire(self) -> tuple:
        return (
            self.markdown,
            [(s.heading, s.page, s.start, s.end, s.path) for s in self.sections],
            self.page_count,
            self.word_count,
            list(self.warnings),
            self.page_labels,
            self.date,
        )

    @classmethod
    def from_wire(cls, wire: tuple) -> Extraction:
        markdown, secs, page_count, word_count, warnings, page_labels, date = wire
        return cls(
            markdown=markdown,
            sections=[Section(h, p, markdown[s:e], s, e, path) for (h, p, s, e, path) in secs],
            page_count=page_count,
            word_count=word_count,
            warnings=warnings,
            page_labels=page_labels,
            date=date,
        )


#: failures that processing the same bytes again cannot fix (the documents list offers no
#: "Reprocess" for them)
ENCRYPTED = "encrypted"
NO_TEXT_LAYER = "no_text_layer"
NO_TEXT = "no_text"
FINAL_CODES = frozenset({ENCRYPTED, NO_TEXT_LAYER, NO_TEXT})


class ExtractionError(Exception):
    """Extraction failed; ``str(exc)`` is a sentence a user understands, ``code`` the stable
    reason (``extraction_failed`` unless it is one of ``FINAL_CODES``)."""

    def __init__(self, message: str, code: str = "extraction_failed"):
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.message


# --- building Markdown with section offsets ---------------------------------

_WS_RE = re.compile(r"\s+")


def one_line(text: str) -> str:
    return _WS_RE.sub(" ", text).strip()


class DocBuilder:
    """Accumulates Markdown blocks (joined by a blank line) and sections.

    A section starts at a heading (or an explicit ``new_section``) and ends at
    the end of its last block, so ``markdown[start:end]`` never carries the
    separator.
    """

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._pos = 0
        self._sections: list[tuple[str | None, int | None, int, int, str | None]] = []
        # pending section: (heading, page, start or None until first block)
        self._cur_heading: str | None = None
        self._cur_page: int | None = None
        self._cur_path: str | None = None
        self._paths = HeadingPath()
        self._cur_start: int | None = None
        self._cur_end: int | None = None

    @property
    def empty(self) -> bool:
        return self._pos == 0

    def _close(self) -> None:
        if self._cur_start is not None and self._cur_end is not None:
            self._sections.append(
                (self._cur_heading, self._cur_page, self._cur_start, self._cur_end, self._cur_path)
            )
        self._cur_start = self._cur_end = None

    def new_section(
        self, heading: str | None = None, page: int | None = None, path: str | None = None
    ) -> None:
        """Start a section; its heading path is ``path``, else the heading alone."""
        self._close()
        self._cur_heading = heading
        self._cur_page = page
        self._cur_path = path if path is not None else heading

    def _emit(self, text: str) -> tuple[int, int]:
        if self._parts:
            self._parts.append("\n\n")
            self._pos += 2
        start = self._pos
        self._parts.append(text)
        self._pos += len(text)
        return start, self._pos

    def block(self, text: str) -> None:
        """Append a block (paragraph, list, table...).  Blank blocks are ignored."""
        text = text.strip("\n")
        if not text.strip():
            return
        start, end = self._emit(text)
        if self._cur_start is None:
            self._cur_start = start
        self._cur_end = end

    def heading(self, text: str, level: int, page: int | None = None) -> None:
        text = one_line(text)
        if not text:
            return
        level = min(max(level, 1), 6)
        path = self._paths.enter(text, level)
        self.new_section(text, page if page is not None else self._cur_page, path)
        self.block("#" * level + " " + text)

    def finish(
        self,
        *,
        page_count: int | None = None,
        warnings: list[str] | None = None,
        page_labels: list[str] | None = None,
        date: str | None = None,
    ) -> Extraction:
        self._close()
        markdown = "".join(self._parts)
        sections = drop_title(
            [Section(h, p, markdown[s:e], s, e, path) for (h, p, s, e, path) in self._sections]
        )
        return Extraction(
            markdown=markdown,
            sections=sections,
            page_count=page_count,
            word_count=word_count(markdown),
            warnings=list(warnings or []),
            page_labels=page_labels,
            date=date,
        )
