"""`draftsmith generate --review-outline`: on a terminal the outline is edited in $EDITOR
before writing; otherwise it is printed and written as proposed."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

from draftsmith.blogs.outline import outline_text, parse_outline_text
from tests.fixtures.make import fixture_path
from tests.test_config_cli import cli

FILES = (str(fixture_path("tide-pools.md")), str(fixture_path("lighthouses.md")))
TOPIC = "tide pool animals and lighthouse keepers"
EDITED = """Title: Pools and Lights

## Lamps, lenses and fog signals
- Fresnel lens
- fog horn

## Animals of the pools
- sea stars
"""


def headings(markdown: str) -> list[str]:
    return re.findall(r"(?m)^## (.+)$", markdown)


def test_the_outline_text_round_trips_and_says_what_is_wrong():
    outline = {
        "title": "T",
        "sections": [{"heading": "A", "points": ["x", "y"]}, {"heading": "B", "points": []}],
    }
    assert parse_outline_text(outline_text(outline)) == ("T", [("A", ["x", "y"]), ("B", [])])
    for bad, said in (("- a point first\n", "before any"), ("## A\nstray words\n", "line 2")):
        try:
            parse_outline_text(bad)
        except ValueError as exc:
            assert said in str(exc)
        else:
            raise AssertionError(f"{bad!r} was accepted")


def test_off_a_terminal_the_outline_is_printed_and_written_as_proposed(tmp_path):
    out = tmp_path / "post.md"
    result = cli(
        "generate", *FILES, "--topic", TOPIC, "--length", "short", "--review-outline",
        "-o", str(out), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "not a terminal" in result.stderr
    shown = headings(result.stderr)
    assert shown and headings(out.read_text())[:-2] == shown


def run_on_a_terminal(args: list[str], cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    """Run the CLI with a pseudo-terminal as stdin, stdout and stderr: (exit code, output)."""
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "draftsmith.cli", *args],
        cwd=cwd,
        env=env,
        stdin=follower,
        stdout=follower,
        stderr=follower,
        close_fds=True,
    )
    os.close(follower)
    output = b""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closed: the process has ended
                break
            if not chunk:
                break
            output += chunk
        elif process.poll() is not None:
            break
    os.close(leader)
    return process.wait(timeout=30), output.decode("utf-8", "replace")


def test_on_a_terminal_the_outline_is_edited_in_the_editor(tmp_path):
    editor = tmp_path / "editor.py"
    seen = tmp_path / "seen.md"
    editor.write_text(
        "import sys, pathlib\n"
        "path = pathlib.Path(sys.argv[-1])\n"
        f"pathlib.Path({str(seen)!r}).write_text(path.read_text())\n"
        f"path.write_text({EDITED!r})\n"
    )
    out = tmp_path / "post.md"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRAFTSMITH_")}
    env.update(EDITOR=f"{sys.executable} {editor}", VISUAL="", COLUMNS="200", TERM="dumb")
    args = ["generate", *FILES, "--topic", TOPIC, "--length", "short", "--review-outline"]
    code, output = run_on_a_terminal([*args, "-o", str(out)], tmp_path, env)
    assert code == 0, output
    proposed = parse_outline_text(seen.read_text())  # what the editor was given
    assert proposed[0] and len(proposed[1]) >= 2
    post = out.read_text()
    assert post.startswith("# Pools and Lights\n")
    assert headings(post) == [
        "Lamps, lenses and fog signals",
        "Animals of the pools",
        "Conclusion",
        "Sources",
    ]
