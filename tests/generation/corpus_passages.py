"""Build Passages from the shared test corpus (no database, no app code).

Markdown files are chunked with a simple paragraph splitter that remembers the
last heading; PDFs are read with pypdfium2 page by page and chunked at line
ends. ``Passage.text`` is always verbatim ``document[start:end]``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from draftsmith.generation.types import Passage

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # also imported from a bare subprocess (determinism test)
    sys.path.insert(0, str(REPO))

from tests import corpus  # noqa: E402


def corpus_dir() -> Path | None:
    """The real-world corpus (tests/corpus.py decides where), or None without one."""
    return corpus.CORPUS if corpus.AVAILABLE else None


_HEADING = re.compile(r"^\s*#{1,6}\s+(.+?)\s*#*\s*$")


def chunk_markdown(text: str, document_id: str, name: str, max_words: int = 160) -> list[Passage]:
    """Paragraph splitter: blocks separated by blank lines, packed into chunks of
    about ``max_words``; a heading starts a new chunk and labels the following ones."""
    blocks = [(m.start(), m.end()) for m in re.finditer(r"(?:[^\n]*\S[^\n]*(?:\n|$))+", text)]
    out: list[Passage] = []
    heading: str | None = None
    cur: list[int] | None = None
    cur_heading: str | None = None
    words = 0
    in_fence = False

    def flush() -> None:
        nonlocal cur, words
        if cur is not None:
            s, e = cur
            while e > s and text[e - 1].isspace():
                e -= 1
            if text[s:e].strip():
                out.append(
                    Passage(
                        f"{document_id}:{len(out)}",
                        document_id,
                        name,
                        None,
                        s,
                        e,
                        text[s:e],
                        cur_heading,
                        0.0,
                    )
                )
        cur, words = None, 0

    for s, e in blocks:
        block = text[s:e]
        if block.count("```") % 2:
            in_fence = not in_fence
        first = block.split("\n", 1)[0]
        m = _HEADING.match(first)
        if m and not in_fence:
            flush()
            heading = m.group(1).strip()
        if cur is None:
            cur, cur_heading = [s, e], heading
        else:
            cur[1] = e
        words += len(block.split())
        if words >= max_words and not in_fence:
            flush()
    flush()
    return out


def markdown_passages(path: Path) -> list[Passage]:
    text = path.read_text(encoding="utf-8")
    return chunk_markdown(text, path.stem, path.name)


def pdf_document(path: Path) -> tuple[str, list[tuple[int, int, int]]]:
    """(document text, [(page, start, end)]) extracted with pypdfium2."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    parts: list[str] = []
    pages: list[tuple[int, int, int]] = []
    pos = 0
    try:
        for i in range(len(pdf)):
            page = pdf[i]
            tp = page.get_textpage()
            raw = tp.get_text_bounded()
            tp.close()
            page.close()
            t = raw.replace("\r\n", "\n").replace("\r", "\n")
            t = re.sub(r"\x02\n?", "", t)  # pdfium marks hyphenation with \x02
            t = re.sub(r"[ \t]+\n", "\n", t).strip()
            if not t:
                continue
            if parts:
                pos += 2
            pages.append((i + 1, pos, pos + len(t)))
            parts.append(t)
            pos += len(t)
    finally:
        pdf.close()
    return "\n\n".join(parts), pages


def pdf_passages(path: Path, max_words: int = 170) -> list[Passage]:
    text, pages = pdf_document(path)
    out: list[Passage] = []
    for page, ps, pe in pages:
        s = ps
        words = 0
        pos = ps
        for line in text[ps:pe].split("\n"):
            end = pos + len(line)
            words += len(line.split())
            if words >= max_words and line.rstrip().endswith((".", "?", "!")):
                out.append(
                    Passage(
                        f"{path.stem}:{len(out)}",
                        path.stem,
                        path.name,
                        page,
                        s,
                        end,
                        text[s:end],
                        None,
                        0.0,
                    )
                )
                s, words = end + 1, 0
            pos = end + 1
        if pe > s and text[s:pe].strip():
            out.append(
                Passage(
                    f"{path.stem}:{len(out)}",
                    path.stem,
                    path.name,
                    page,
                    s,
                    pe,
                    text[s:pe],
                    None,
                    0.0,
                )
            )
    return out


def document_texts(paths: list[Path]) -> dict[str, str]:
    """document_id -> full text, for checking citation offsets."""
    out: dict[str, str] = {}
    for p in paths:
        if p.suffix == ".pdf":
            out[p.stem] = pdf_document(p)[0]
        else:
            out[p.stem] = p.read_text(encoding="utf-8")
    return out
