"""The one-shot commands' progress reporter: on a terminal, bars whose counts are never
"None"; off one, a plain line per step."""

from __future__ import annotations

import io
from pathlib import Path
from types import SimpleNamespace

from rich.console import Console

from draftsmith.reporting import Reporter, file_line

EVENTS = [
    ("status", {"stage": "queued", "message": "Waiting for a worker"}),
    ("status", {"stage": "retrieving", "message": "Finding the passages"}),
    ("outline", {"sections": [{"heading": "Zones"}, {"heading": "Tides"}]}),
    ("section", {"kind": "introduction", "heading": None, "final": True}),
    ("section", {"kind": "section", "heading": "Zones", "final": False}),
    ("section", {"kind": "section", "heading": "Zones", "final": True}),
    ("section", {"kind": "section", "heading": "Tides", "final": True}),
    ("section", {"kind": "conclusion", "heading": None, "final": True}),
]


def result(name, status="ready", pages=None, words=None, error=None):
    return SimpleNamespace(path=Path(name), status=status, pages=pages, words=words, error=error)


def run(console: Console) -> None:
    with Reporter(console, 2) as report:
        report.ingested(result("notes.md", words=1534))
        report.ingested(result("scan.pdf", "failed", error="No text layer."))
        for kind, data in EVENTS:
            report.event(kind, data)


def test_plain_lines_off_a_terminal():
    out = io.StringIO()
    run(Console(file=out, force_terminal=False, width=200))
    assert out.getvalue().splitlines() == [
        "Reading documents: 2 files",
        "  notes.md: ready, 1,534 words",
        "  scan.pdf: failed: No text layer.",
        "Finding the passages",
        "Outline: 2 sections: Zones; Tides",
        "Wrote the introduction",
        "Wrote section 1 of 2: Zones",
        "Wrote section 2 of 2: Tides",
        "Wrote the conclusion",
    ]


def test_bars_on_a_terminal_never_show_none():
    out = io.StringIO()
    run(Console(file=out, force_terminal=True, width=120))
    text = out.getvalue()
    assert "notes.md: ready, 1,534 words" in text
    assert "None" not in text and "- pages" not in text


def test_a_file_line_names_only_the_numbers_it_has():
    assert file_line(result("a.pdf", pages=1, words=12)) == "a.pdf: ready, 1 page, 12 words"
    assert file_line(result("b.md")) == "b.md: ready"
