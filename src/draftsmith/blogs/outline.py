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
