"""Text extraction from uploaded documents, one module per format.

``extract(path, kind)`` runs in-process; ``extract_isolated(...)`` runs the
same code in a reusable worker process with a wall-clock time limit and an
address-space limit per task, so a hostile or broken file fails alone with an
``ExtractionError`` and the caller survives.

``kind`` is what :func:`draftsmith.documents.sniff.detect_type` returned
("pdf", "docx", "html", "markdown", "text"); ``encoding`` its encoding for
the text kinds.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ._base import Extraction, ExtractionError, Section

__all__ = [
    "Section",
    "Extraction",
    "ExtractionError",
    "ExtractorUnavailable",
    "extract",
    "extract_isolated",
    "warm_up",
    "configure_workers",
    "shutdown_workers",
    "KINDS",
]

log = logging.getLogger(__name__)

KINDS = ("pdf", "docx", "html", "markdown", "text")
_ALIASES = {"md": "markdown", "txt": "text", "plain": "text", "htm": "html"}
_LABELS = {
    "pdf": "PDF",
    "docx": "Word document",
    "html": "HTML page",
    "markdown": "Markdown file",
    "text": "text file",
}


class _OutOfMemory(ExtractionError):
    pass


class ExtractorUnavailable(ExtractionError):
    """The worker process could not be started (a server problem, not the
    document's): callers may retry later instead of failing the document."""


MEMORY_MESSAGE = (
    "Processing this file needed too much memory; it may be damaged or unusually complex."
)


def _extract_unguarded(path: Path, kind: str, encoding: str | None = None) -> Extraction:
    path = Path(path)
    kind = _ALIASES.get(kind, kind)
    if kind == "pdf":
        from .pdf import extract_pdf

        return extract_pdf(path)
    if kind == "docx":
        from .docx import extract_docx

        return extract_docx(path)
    if kind == "html":
        from .html import extract_html

        return extract_html(path, encoding)
    if kind == "markdown":
        from .text import extract_markdown

        return extract_markdown(path, encoding)
    if kind == "text":
        from .text import extract_plain

        return extract_plain(path, encoding)
    raise ExtractionError("This file type is not supported.")


def _extract_guarded(path: Path, kind: str, encoding: str | None = None) -> Extraction:
    """Like :func:`extract` but lets MemoryError through (the worker reports it)."""
    label = _LABELS.get(_ALIASES.get(kind, kind), "file")
    try:
        return _extract_unguarded(path, kind, encoding)
    except (ExtractionError, MemoryError):
        raise
    except FileNotFoundError:
        raise ExtractionError("The uploaded file is missing from storage.") from None
    except RecursionError:
        raise ExtractionError(f"This {label} is too deeply nested to be processed.") from None
    except Exception:
        log.exception("unexpected error extracting %s (%s)", path, kind)
        raise ExtractionError(f"This {label} could not be read; it may be damaged.") from None


def extract(path: Path, kind: str, encoding: str | None = None) -> Extraction:
    """Extract Markdown + sections in this process.

    Raises only :class:`ExtractionError` (with a user-facing message) for a
    bad document; unexpected library errors are logged and wrapped.
    """
    try:
        return _extract_guarded(path, kind, encoding)
    except MemoryError:
        raise _OutOfMemory(MEMORY_MESSAGE) from None


def extract_isolated(
    path: Path,
    kind: str,
    encoding: str | None = None,
    *,
    timeout_s: float = 120,
    memory_mb: int = 1024,
) -> Extraction:
    """Run :func:`extract` in a pooled worker process with per-task limits.

    ``timeout_s`` is wall-clock time for this file (the worker is killed when
    it is exceeded); ``memory_mb`` is the extra address space the task may
    use on top of the worker's baseline (RLIMIT_AS).  Thread-safe.
    """
    from ._isolation import run_isolated

    path = Path(path).absolute()  # the worker's working directory may differ
    if _ALIASES.get(kind, kind) == "pdf" and _size(path) >= SPLIT_MIN_BYTES:
        whole = _extract_pdf_halves(path, timeout_s=timeout_s, memory_mb=memory_mb)
        if whole is not None:
            return whole
    return run_isolated(
        "extract", (str(path), kind, encoding), timeout_s=timeout_s, memory_mb=memory_mb
    )


# A PDF this large may be long: its two halves are then read by two workers at once.
SPLIT_MIN_BYTES = 1 << 20


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _extract_pdf_halves(path: Path, **limits) -> Extraction | None:
    """A long PDF read in two halves by two pool workers; None when it is short."""
    from ._isolation import run_isolated
    from .pdf import assemble_pdf

    def read(half: int):
        return run_isolated("pdf_half", (str(path), half), **limits)

    with ThreadPoolExecutor(2) as threads:
        halves = list(threads.map(read, (0, 1)))
    if None in halves:
        return None
    (pages, outline, labels, head, date), (*_, tail, _) = halves
    whole = assemble_pdf(pages, outline, head + tail, labels)
    whole.date = date
    return whole


def warm_up(workers: int = 1) -> None:
    """Start worker processes ahead of the first extraction (optional)."""
    from ._isolation import pool

    pool().warm_up(workers)


def configure_workers(*, max_workers: int | None = None) -> None:
    """Pool size, for the app to pass from its settings (this package reads no
    environment): ``max_workers`` concurrent worker processes (default: CPU count)."""
    from ._isolation import configure

    configure(max_workers=max_workers)


def shutdown_workers() -> None:
    from ._isolation import pool

    pool().shutdown()
