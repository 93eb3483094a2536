"""Progress of the commands that work in this process (`generate`, `ingest`): live bars on
a terminal, plain lines otherwise (a pipe, a log file, CI), each saying what happened, with
no bar's "0/None" and no placeholder for a number a file does not have."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

KIND_NAMES = {"introduction": "the introduction", "conclusion": "the conclusion"}


def file_line(result: Any) -> str:
    """``name: ready, 8 pages, 1,234 words`` (only the numbers the file has), or why it
    failed."""
    if result.status != "ready":
        return f"{result.path.name}: {result.status}: {result.error or 'unknown error'}"
    facts = [result.status]
    if result.pages:
        facts.append(f"{result.pages} page{'s' if result.pages != 1 else ''}")
    if result.words:
        facts.append(f"{result.words:,} words")
    return f"{result.path.name}: {', '.join(facts)}"


class Reporter:
    """Reports files read and generation events; bars when ``console`` is a terminal."""

    def __init__(self, console: Console, n_files: int, task: str = "Reading documents") -> None:
        self.console = console
        self.live = console.is_terminal
        self.sections = 0  # body sections in the outline (0 until it is known)
        self.written = 0
        self.last_status = ""
        self.progress: Progress | None = None
        if self.live:
            self.progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            )
            self.reading = self.progress.add_task(task, total=n_files)
            # no total until the outline says how many sections: an indeterminate bar
            self.writing = self.progress.add_task("Writing", total=None, visible=False)
        else:
            self._line(f"{task}: {n_files} file{'s' if n_files != 1 else ''}")

    def __enter__(self) -> Reporter:
        if self.progress is not None:
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()

    def _line(self, text: str) -> None:
        self.console.print(text, markup=False, highlight=False)

    def ingested(self, result: Any) -> None:
        self._line(f"  {file_line(result)}")
        if self.progress is not None:
            self.progress.advance(self.reading)

    def event(self, kind: str, data: dict) -> None:
        if kind == "status" and data.get("stage") != "queued":  # no queue in this process
            self._status(data.get("message") or data.get("stage") or "")
        elif kind == "outline":
            headings = [s.get("heading") or "" for s in data.get("sections", [])]
            self.sections = len(headings)
            if self.progress is not None:
                self.progress.update(self.writing, visible=True, total=self.sections, completed=0)
            else:
                self._line(f"Outline: {self.sections} sections: {'; '.join(headings)}")
        elif kind == "section" and data.get("final", True):
            self._section(data.get("kind") or "section", data.get("heading") or "")

    def _status(self, message: str) -> None:
        if not message or message == self.last_status:
            return
        self.last_status = message
        if self.progress is not None:
            self.progress.update(self.writing, visible=True, description=message[:60])
        else:
            self._line(message)

    def _section(self, kind: str, heading: str) -> None:
        if kind == "section":
            self.written += 1
            of = f" of {self.sections}" if self.sections >= self.written else ""
            what = f"section {self.written}{of}" + (f": {heading}" if heading else "")
        else:
            what = KIND_NAMES.get(kind, kind)
        if self.progress is not None:
            advance = 1 if kind == "section" else 0
            self.progress.update(self.writing, advance=advance, description=f"Writing {what}"[:60])
        else:
            self._line(f"Wrote {what}")
