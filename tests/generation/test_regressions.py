"""Inputs that once crashed an engine now give a cited draft, through the same
one-process path as `draftsmith generate` (extract, chunk, write)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.test_config_cli import cli

HERE = Path(__file__).parent / "regressions"


@pytest.mark.parametrize(
    ("files", "topic", "length", "covered"),
    [
        (["Notes_c963e3b3.txt"], "how database locking works", "medium", True),
        # two sentences of these notes name OCR: no section is about it, so the extractive
        # engine says so instead of writing about SQLite under an OCR title
        (["Notes_e7006f8d.md", "Notes_4f8ff896.txt"], "OCR options and trade-offs", "short", False),
    ],
)
def test_key_phrase_sections_over_covered_sentences_do_not_crash(
    tmp_path, files, topic, length, covered
):
    out = tmp_path / "post.md"
    result = cli(
        "generate",
        *(str(HERE / f) for f in files),
        "--topic",
        topic,
        "--length",
        length,
        "--engine",
        "extractive",
        "-o",
        str(out),
        cwd=tmp_path,
    )
    assert "Traceback" not in result.stderr
    if not covered:
        assert result.returncode == 1 and "not about this topic" in result.stderr.replace(
            "\n", " "
        ), result.stderr
        return
    assert result.returncode == 0, result.stderr
    post = out.read_text()
    assert post.startswith("# ") and "[1]" in post and "## Sources" in post
    assert "Traceback" not in result.stderr
