"""A blog's outline as stored and as the API shows it: ``{title, sections: [{heading,
points, query}]}``. Rows written before outline review hold a bare list of sections
(the title was the blog's): they read the same way."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from draftsmith.text.words import normalize_whitespace


def _section(s: Any) -> dict[str, Any] | None:
    if not isinstance(s, dict) or not isinstance(s.get("heading"), str):
        return None
    points = s.get("points")
    return {
        "heading": s["heading"],
        "points": [p for p in points if isinstance(p, str)] if isinstance(points, list) else [],
        "query": s.get("query") if isinstance(s.get("query"), str) else "",
    }


def outline_shape(outline: Any, title: str) -> dict[str, Any] | None:
    """The stored outline in the API's shape (None when there is none)."""
    if isinstance(outline, list):
        outline = {"title": title, "sections": outline}
    if not isinstance(outline, dict):
        return None
    sections = outline.get("sections")
    shaped = [x for s in sections if (x := _section(s))] if isinstance(sections, list) else []
    stored_title = outline.get("title")
    return {
        "title": stored_title if isinstance(stored_title, str) and stored_title else title,
        "sections": shaped,
    }


def approved_outline(title: str, sections: Sequence[tuple[str, Sequence[str]]], topic: str) -> dict:
    """The author's outline, tidied: each section's query is its heading, the topic and its
    points (what the section retrieves by)."""
    out = []
    for heading, points in sections:
        heading = normalize_whitespace(heading)
        kept = [normalize_whitespace(p) for p in points if p.strip()]
        out.append(
            {"heading": heading, "points": kept, "query": " ".join([heading, topic, *kept]).strip()}
        )
    return {"title": normalize_whitespace(title), "sections": out}


# -- the outline as text, for an editor (`draftsmith generate --review-outline`) --

OUTLINE_TEXT_HELP = """\
# Edit the outline, then save and close the editor: the post is written with exactly
# these headings, in this order. "Title:" is the post's title; each "## " line starts a
# section, and the "- " lines under it are its points (optional). Lines starting with
# "#" alone are ignored. Delete every section to stop without writing.
"""


def outline_text(outline: dict[str, Any]) -> str:
    """The outline as Markdown-like text: ``Title:``, then ``## heading`` and ``- point`` lines."""
    lines = [OUTLINE_TEXT_HELP, f"Title: {outline['title']}", ""]
    for section in outline["sections"]:
        lines.append(f"## {section['heading']}")
        lines += [f"- {point}" for point in section["points"]]
        lines.append("")
    return "\n".join(lines)


def parse_outline_text(text: str) -> tuple[str | None, list[tuple[str, list[str]]]]:
    """``(title, [(heading, points)])`` of edited `outline_text`; ValueError says what is wrong."""
    title: str | None = None
    sections: list[tuple[str, list[str]]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or (line.startswith("#") and not line.startswith("## ")):
            continue
        if line.lower().startswith("title:"):
            title = line[6:].strip() or None
        elif line.startswith("## "):
            sections.append((line[3:].strip(), []))
        elif line.startswith(("- ", "* ")):
            if not sections:
                raise ValueError(f"line {number}: a point before any “## ” section heading")
            sections[-1][1].append(line[2:].strip())
        else:
            raise ValueError(
                f"line {number}: “{line[:40]}” is not “Title:”, a “## ” heading or a “- ” point"
            )
    return title, sections
