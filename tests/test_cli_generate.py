"""`draftsmith generate` takes the whole brief (issue 11, CLI parity) and, when its output is
not a terminal, reports progress in plain lines; `ingest` too. Run through the real command
in a subprocess, its LLM a real HTTP server (the fake OpenAI-compatible one)."""

from __future__ import annotations

import re

from draftsmith.generation.types import target_words
from tests.fixtures.make import fixture_path
from tests.test_config_cli import cli

BRIEF = {
    "--title": "Life between the tides",
    "--audience": "marine biology students",
    "--tone": "playful",
    "--language": "English",
    "--instructions": "Mention the quadrat survey method",
    "--length": "short",
}
NO_PLACEHOLDERS = re.compile(r"None|- pages|\?/|/\?")


def test_every_brief_flag_reaches_the_session(tmp_path, openai_server):
    out = tmp_path / "post.md"
    args = [arg for pair in BRIEF.items() for arg in pair]
    result = cli(
        "generate",
        str(fixture_path("tide-pools.md")),
        "--topic",
        "tide pool animals on rocky shores",
        "--engine",
        "llm",
        *args,
        "-o",
        str(out),
        cwd=tmp_path,
        env={
            "DRAFTSMITH_LLM_BASE_URL": openai_server.base_url,
            "DRAFTSMITH_LLM_MODEL": "fake-model",
        },
    )
    assert result.returncode == 0, result.stderr
    prompts = [r.prompt for r in openai_server.chat_requests]
    assert prompts, "the LLM engine was not used"
    outline = prompts[0]
    assert "Topic: tide pool animals on rocky shores" in outline
    assert "Title: Life between the tides" in outline
    assert "Audience: marine biology students" in outline and "Tone: playful" in outline
    assert "Language: English" in outline
    assert "Additional instructions from the user: Mention the quadrat survey method" in outline
    assert f"Length of the whole post: short (about {target_words('short')} words)" in outline
    assert out.read_text().startswith("# Life between the tides\n")


def test_progress_off_a_terminal_is_plain_lines(tmp_path):
    result = cli(
        "generate",
        str(fixture_path("tide-pools.md")),
        str(fixture_path("report.pdf")),
        "--topic",
        "tide pool animals on rocky shores",
        "--length",
        "short",
        "-o",
        str(tmp_path / "post.md"),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0] == "Reading documents: 2 files"
    assert "  tide-pools.md: ready, 1,534 words" in lines  # a Markdown file has no pages
    assert "  report.pdf: ready, 8 pages, 4,843 words" in lines
    outline = next(line for line in lines if line.startswith("Outline: "))
    sections = int(re.match(r"Outline: (\d+) sections: ", outline).group(1))
    assert "Wrote the introduction" in lines and "Wrote the conclusion" in lines
    assert f"Wrote section 1 of {sections}: " in result.stderr
    assert lines[-1].startswith("Wrote ") and "citations" in lines[-1]
    assert not NO_PLACEHOLDERS.search(result.stderr), result.stderr
    assert "\x1b[" not in result.stderr and "\r" not in result.stderr  # no bar redraws
    assert "Waiting for a worker" not in result.stderr  # no queue in one process


def test_a_language_the_extractive_engine_cannot_write_is_refused_before_writing(tmp_path):
    result = cli(
        "generate",
        str(fixture_path("tide-pools.md")),
        "--topic",
        "tide pool animals on rocky shores",
        "--language",
        "French",
        cwd=tmp_path,
    )
    assert result.returncode == 1 and "cannot translate" in result.stderr
    assert "Outline" not in result.stderr and result.stdout == ""


def test_generate_help_shows_an_example_and_the_brief_options(tmp_path):
    result = cli("generate", "--help", cwd=tmp_path)
    assert result.returncode == 0
    assert "Example:" in result.stdout and "draftsmith generate notes.pdf" in result.stdout
    for option in (*BRIEF, "--engine", "--topic", "--allow-thin-sources"):
        assert option in result.stdout, option
    bad = cli("generate", "x.md", "--topic", "tides", "--length", "huge", cwd=tmp_path)
    assert bad.returncode == 2 and "huge" in bad.stderr


def test_ingest_progress_off_a_terminal_is_plain_lines(tmp_path):
    result = cli(
        "ingest", str(fixture_path("report.pdf")), str(fixture_path("encrypted.pdf")), cwd=tmp_path
    )
    assert result.returncode == 1
    lines = result.stderr.splitlines()
    assert lines[0] == "Ingesting: 2 files"
    assert "  report.pdf: ready, 8 pages, 4,843 words" in lines
    assert any(line.startswith("  encrypted.pdf: failed: This PDF is password") for line in lines)
    assert not NO_PLACEHOLDERS.search(result.stderr) and "\x1b[" not in result.stderr
