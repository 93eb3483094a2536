"""Drafts worth editing, end to end through the one-process pipeline (extract, chunk, index,
write) over generated documents: code kept as cited fenced blocks, numbered procedures as
ordered lists, no page furniture or footnote debris, no section off the topic."""

from __future__ import annotations

import re

import pytest
from tests.fixtures.make import (
    FOOTNOTE,
    HOWTO_CODE,
    HOWTO_OFF_TOPIC,
    HOWTO_STEPS,
    HOWTO_TOPIC,
    RUNNING_HEADER,
    fixture_path,
)

from draftsmith.oneshot import generate_from_files, local_context, local_user_id, scratch_settings


async def draft(names: list[str], topic: str, length: str = "medium"):
    async with scratch_settings() as settings, local_context(settings) as ctx:
        user_id = await local_user_id(ctx, None)
        blog = await generate_from_files(
            ctx,
            user_id,
            [fixture_path(n) for n in names],
            topic,
            engine="extractive",
            length=length,
        )
    assert blog.status == "ready", blog.error
    return blog


def body(markdown: str) -> str:
    return markdown.split("\n## Sources", 1)[0]


def fenced_blocks(markdown: str) -> list[tuple[str, str, int, int]]:
    """(language, code, start, end) of each fenced block."""
    return [
        (m.group(1), m.group(2), m.start(), m.end())
        for m in re.finditer(r"(?ms)^```(\w*)\n(.*?)\n```$", markdown)
    ]


@pytest.mark.parametrize(
    "name", ["survey-howto.md", "survey-howto.html", "survey-code.docx", "listing.pdf"]
)
async def test_code_brief_keeps_the_sources_code_fenced_and_cited(name):
    blog = await draft([name], HOWTO_TOPIC)
    text = body(blog.markdown)
    blocks = fenced_blocks(text)
    assert blocks, text
    language, code, start, end = blocks[0]
    # the code as the source has it (a DOCX or a PDF listing loses the blank line)
    assert code.replace("\n\n", "\n") == HOWTO_CODE.replace("\n\n", "\n")
    assert language == ("python" if name.endswith((".md", ".html")) else "")
    # cited by the sentence that leads to it, and that citation points into the source
    lead = text[:start].rstrip().rsplit("\n\n", 1)[-1]
    assert lead.startswith("To count the animals of one tide pool") and lead.endswith(": [1]")
    (n,) = [int(x) for x in re.findall(r"\[(\d+)\]", lead)]
    cited = next(c for c in blog.citations if c["n"] == n)
    assert cited["document_name"] == name
    # a marker-like "[0]" inside the code is code, not a citation
    assert "counts[0]" in code and all(c["n"] >= 1 for c in blog.citations)


async def test_numbered_procedure_stays_an_ordered_list():
    blog = await draft(["survey-howto.md"], "How to lay out a tide pool survey transect")
    text = body(blog.markdown)
    items = re.findall(r"(?m)^(\d+)\. (.+)$", text)
    assert [int(k) for k, _ in items] == list(range(1, len(HOWTO_STEPS) + 1)), text
    assert [re.sub(r" \[\d+\]\.$", ".", s) for _, s in items] == list(HOWTO_STEPS)
    assert re.search(r"\[\d+\]\.$", items[-1][1])  # the list is cited


async def test_off_topic_section_is_left_out_with_a_warning():
    blog = await draft(["survey-howto.md"], HOWTO_TOPIC, length="long")
    assert f"## {HOWTO_OFF_TOPIC}" not in blog.markdown
    assert not re.search(r"car park|cafe|bicycles", body(blog.markdown), re.IGNORECASE)
    assert any(HOWTO_OFF_TOPIC in w for w in blog.warnings), blog.warnings
    headings = re.findall(r"(?m)^## (.+)$", body(blog.markdown))
    assert [s["heading"] for s in blog.outline["sections"]] == [
        h for h in headings if h != "Conclusion"
    ]


async def test_page_furniture_and_footnotes_stay_out_of_the_draft():
    blog = await draft(["field-guide.pdf"], "tide pool animals on rocky shores")
    text = body(blog.markdown)
    prose = "\n".join(ln for ln in text.splitlines() if not ln.startswith("#"))
    assert len(prose.split()) > 300
    assert RUNNING_HEADER not in text and FOOTNOTE not in text
    assert not re.search(r"\bPage \d", text)
    assert not re.search(r"\b[a-z]{3,}\d\b", prose), "a footnote marker glued to a word"
    assert not re.search(r"(?:^|[.!?] )\d{1,2} [A-Z][a-z]+ ", prose, re.M), (
        "a marker opens a sentence"
    )
    assert not re.search(r"\b(?:we|our)\b", prose, re.IGNORECASE)
