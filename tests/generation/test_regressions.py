"""Inputs that once crashed an engine now give a cited draft, through the same
one-process path as `draftsmith generate` (extract, chunk, write)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.test_config_cli import cli

HERE = Path(__file__).parent / "regressions"


@pytest.mark.parametrize(
    ("files", "topic", "length"),
    [
        (["Notes_c963e3b3.txt"], "how database locking works", "medium"),
        (["Notes_e7006f8d.md", "Notes_4f8ff896.txt"], "OCR options and trade-offs", "short"),
    ],
)
def test_key_phrase_sections_over_covered_sentences_do_not_crash(tmp_path, files, topic, length):
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
    assert result.returncode == 0, result.stderr
    post = out.read_text()
    assert post.startswith("# ") and "[1]" in post and "## Sources" in post
    assert "Traceback" not in result.stderr
