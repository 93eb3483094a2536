"""Markdown-ish blocks (prose, list, heading, code, table) with exact offsets:
the lenient scanner used for text extracted from PDFs and other formats."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Block:
    start: int
    end: int
    kind: str  # "prose" | "list" | "heading" | "code" | "table" | "other"


_FENCE_RE = re.compile(r"^\s*(```|~~~)")
_HEADING_RE = re.compile(r"^\s{0,3}#{1,6}(\s|$)")
_SETEXT_RE = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_HR_RE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")
_LIST_RE = re.compile(r"^\s*(?:[-*+•▪‣◦●]|\(?\d{1,3}[.)]|\(?[a-zA-Z][.)])\s+")
_TABLE_RE = re.compile(r"^\s*\||\|.*\|")
_OTHER_RE = re.compile(
    r"^\s*(?:>|<[A-Za-z/!][^>]*>\s*$|!\[|\?\?\?|!!!|:::|\{[\w-]+\}|:[\w-]+:|\.\. "
    r"|\[[^\]]+\]:\s|\$\$|\\\[)"
)


def markdown_blocks(text: str) -> list[Block]:
    """Classify the lines of ``text`` into blocks.

    Prose blocks are runs of consecutive prose lines (a blank line or any
    non-prose line ends them). List items (with their continuation lines) are
    "list" blocks; headings, code, tables, quotes, HTML, images and directives
    are never prose."""
    blocks: list[Block] = []
    lines: list[tuple[int, int]] = []
    pos = 0
    for line in text.splitlines(keepends=True):
        lines.append((pos, pos + len(line.rstrip("\r\n"))))
        pos += len(line)
    kinds: list[str] = []
    in_fence = False
    fence = ""
    prev_kind = "blank"
    for s, e in lines:
        line = text[s:e]
        stripped = line.strip()
        if in_fence:
            kinds.append("code")
            m = _FENCE_RE.match(line)
            if m and m.group(1) == fence:
                in_fence = False
            continue
        m = _FENCE_RE.match(line)
        if m:
            in_fence, fence = True, m.group(1)
            kinds.append("code")
            prev_kind = "code"
            continue
        if not stripped:
            kind = "blank"
        elif _HEADING_RE.match(line):
            kind = "heading"
        elif _SETEXT_RE.match(line) and prev_kind == "prose" and kinds and kinds[-1] == "prose":
            kind = "heading"
            kinds[-1] = "heading"  # the line above is a setext heading
        elif _HR_RE.match(line):
            kind = "other"
        elif _TABLE_RE.match(line):
            kind = "table"
        elif _OTHER_RE.match(line):
            kind = "other"
        elif _LIST_RE.match(line):
            kind = "list_start"
        elif prev_kind in ("list_start", "list"):
            kind = "list"  # continuation (indented or lazy) of a list item
        else:
            kind = "prose"
        kinds.append(kind)
        prev_kind = kind
    # group
    i = 0
    n = len(lines)
    while i < n:
        kind = kinds[i]
        if kind == "blank":
            i += 1
            continue
        j = i + 1
        if kind == "prose":
            while j < n and kinds[j] == "prose":
                j += 1
        elif kind == "list_start":
            while j < n and kinds[j] == "list":
                j += 1
            kind = "list"
        else:
            while j < n and kinds[j] == kind:
                j += 1
        blocks.append(Block(lines[i][0], lines[j - 1][1], kind))
        i = j
    return blocks
