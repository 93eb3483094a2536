"""Blocks copied whole: the sources' code blocks (kept fenced) and numbered procedures
(kept as ordered lists). Each is cited like a paragraph and placed in a section after
the sentence that leads to it in its source; code is sought out when the topic asks
for examples or a how-to."""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING

from draftsmith.text.blocks import Block
from draftsmith.text.sentences import list_items
from draftsmith.text.tokens import content_words
from draftsmith.text.words import word_count

from ..types import Passage
from .headings import clean_heading, heading_key
from .sentences import balanced, clean_display

if TYPE_CHECKING:  # candidates reads the blocks with this module
    from .candidates import Cand

#: a topic that asks for code, examples or steps
HOW_TO = re.compile(
    r"\b(?:how (?:to|do|does|can)|examples?|code|tutorial|guide|getting started|"
    r"step[- ]by[- ]step|steps|usage|using|install\w*|configur\w*|set(?:ting)? up|setup|"
    r"snippets?|commands?|recipes?|in practice)\b",
    re.IGNORECASE,
)
_FENCE = re.compile(r"^(`{3,}|~{3,})\s*\{?([\w+#.-]*)\}?[^`]*$")
#: Sphinx doctest blocks: the example is "testcode"; set-up and clean-up are not examples
_INFO = {"testcode": "python", "testoutput": "text", "doctest": "python", "pycon": "python"}
_NOT_EXAMPLES = re.compile(r"setup|cleanup|teardown")
_NUMBERED = re.compile(r"^\s*\(?\d{1,3}[.)]\s+")
MAX_CODE_LINES = 40
MAX_STEPS = 12


@dataclass(eq=False)
class Unit:
    """A code block or a numbered procedure of a passage."""

    kind: str  # "code" | "steps"
    passage: Passage
    s: int  # offsets of the block in passage.text
    e: int
    markdown: str
    words: frozenset[str]
    nwords: int  # prose words (0 for code)
    heading: str | None
    #: the sentence right before the block that leads to it: (start, end, display) in the
    #: passage and, when it is a candidate sentence of its own, that candidate's idx
    lead: tuple[int, int, str] | None = None
    lead_idx: int | None = None
    #: the lead sentence is shown with the block (it is not in the draft otherwise)
    show_lead: bool = False

    @property
    def shown_words(self) -> int:
        """Words the block adds to the draft: its prose and its lead sentence when shown."""
        return self.nwords + (word_count(self.lead[2]) if self.show_lead and self.lead else 0)

    @property
    def doc(self) -> str:
        return self.passage.document_id

    @property
    def dstart(self) -> int:
        return self.passage.start + self.s

    @property
    def pos(self) -> tuple[str, int]:
        return (self.doc, self.dstart)


#: a comment line: C and C++ (/* */, //), shell, Python, YAML (#), HTML (<!-- -->)
_COMMENT_LINE = re.compile(r"^\s*(?:/\*|\*|//|#(?!include|define|!)|<!--|-->)")


def _all_comment(body: list[str]) -> bool:
    """Every line of the block is a comment (or blank) in the usual comment syntaxes."""
    lines = [ln for ln in body if ln.strip()]
    in_block = False
    for ln in lines:
        stripped = ln.strip()
        if in_block or _COMMENT_LINE.match(ln):
            in_block = (in_block or stripped.startswith("/*")) and "*/" not in stripped
            continue
        return False
    return True


def code_unit(p: Passage, b: Block, heading: str | None) -> Unit | None:
    """A complete fenced block of the passage (a block cut by the chunker is left out)."""
    lines = textwrap.dedent(p.text[b.start : b.end]).strip("\n").split("\n")
    if len(lines) < 3:
        return None
    opening = _FENCE.match(lines[0].strip())
    if not opening or lines[-1].strip() != opening.group(1):
        return None
    body = lines[1:-1]
    while body and re.match(r"^:[\w-]+:", body[0]):  # Sphinx directive options
        body = body[1:]
    while body and not body[0].strip():
        body = body[1:]
    if not any(ln.strip() for ln in body) or len(body) > MAX_CODE_LINES:
        return None
    if _all_comment(body):
        return None  # a file's header comment (licence, version history): no example
    if re.search(r"[{(\[,]\s*$", next(ln for ln in reversed(body) if ln.strip())):
        return None  # the page cut the code here ("int def(FILE *source) {"): a fragment
    fence, info = opening.group(1), opening.group(2).lower()
    if _NOT_EXAMPLES.search(info):
        return None
    markdown = "\n".join([fence + _INFO.get(info, info), *body, fence])
    words = frozenset(content_words(" ".join(body)))
    return Unit("code", p, b.start, b.end, markdown, words, 0, heading)


_ASSIGNMENT = re.compile(r"\w\s=\s\S")


def steps_unit(p: Passage, b: Block, heading: str | None) -> Unit | None:
    """A numbered list whose items read as steps (each a short clean text)."""
    text = p.text
    block = text[b.start : b.end]
    starts = [ln for ln in block.split("\n") if ln.strip() and not ln.startswith((" ", "\t"))]
    if not starts or not all(_NUMBERED.match(ln) for ln in starts):
        return None
    items = [clean_display(text[a:z]) for a, z in list_items(text, b)]
    shouting = next((i for i, item in enumerate(items) if not re.search(r"[a-z]", item)), None)
    items = items[:shouting]  # an item in capitals is the next heading, not a step
    if not (2 <= len(items) <= MAX_STEPS):
        return None
    for item in items:
        n = word_count(item)
        if n < 3 or n > 120 or not balanced(item) or "|" in item or "<" in item:
            return None
        if len(_ASSIGNMENT.findall(item)) >= 2:
            return None  # code flattened into the item ("prefix = Note: ... deps = msvc")
    markdown = "\n".join(f"{i}. {item}" for i, item in enumerate(items, 1))
    words = frozenset(content_words(" ".join(items)))
    return Unit("steps", p, b.start, b.end, markdown, words, sum(map(word_count, items)), heading)


def units_for(
    units: list[Unit],
    paras: list[list[Cand]],
    section: tuple[str, frozenset[str]],
    topic: frozenset[str],
    how_to: bool,
    taken: set[int],
    used: set[int],
    others: set[str] = frozenset(),  # type: ignore[assignment]
) -> list[Unit]:
    """The blocks a section shows: those its chosen sentences lead to, and (for a topic
    asking for code or steps) the best on-topic blocks of its own source section.
    ``section`` is (its heading key, its focus stems); ``used``: sentences in the draft;
    ``others``: the heading keys of the other sections (their blocks are theirs)."""
    from .candidates import hits

    key, focus = section
    chosen = {c.idx for para in paras for c in para}
    ends = {(c.doc, c.dend) for para in paras for c in para}
    docs = {c.doc for para in paras for c in para}
    span = {
        d: (
            min(c.dstart for p in paras for c in p if c.doc == d) - 300,
            max(c.dend for p in paras for c in p if c.doc == d) + 3000,
        )
        for d in docs
    }
    picked: list[tuple[float, Unit]] = []
    for u in units:
        ukey = _unit_key(u)
        if id(u) in taken or u.doc not in docs or (ukey in others and ukey != key):
            continue
        attached = u.lead_idx in chosen or any((u.doc, u.dstart - k) in ends for k in range(5))
        inside = span[u.doc][0] <= u.dstart <= span[u.doc][1]
        # its own source section's block; for a how-to, code a little further on too
        own = (bool(key) and ukey == key) or (
            (how_to and u.kind == "code" and inside) if key else bool(u.words & focus)
        )
        on_topic = bool(hits(u.words, topic)) or bool(u.words & focus)
        if not (attached or (own and on_topic and (how_to or u.kind == "steps"))):
            continue
        score = (1.0 if attached else 0.0) + len(hits(u.words, topic | focus)) / 10
        picked.append((score, u))
    picked.sort(key=lambda su: (-su[0], su[1].pos))
    out = [u for _, u in picked[: 2 if how_to else 1]]
    for u in out:
        taken.add(id(u))
        u.show_lead = u.lead is not None and (u.lead_idx is None or u.lead_idx not in used)
    return out


def _unit_key(u: Unit) -> str:
    h = clean_heading(u.heading)
    return heading_key(h) if h else ""


def place_units(paras: list, units: list[Unit]) -> list:
    """The section's paragraphs with each block after the paragraph that comes before it
    in its source (else at the end)."""
    out = list(paras)
    for u in sorted(units, key=lambda u: u.pos, reverse=True):
        same = [i for i, p in enumerate(out) if not isinstance(p, Unit) and p[-1].doc == u.doc]
        before = [i for i in same if out[i][-1].dend <= u.dstart]
        if before:
            at = max(before, key=lambda i: out[i][-1].dend) + 1
        else:  # nothing of its source comes before it: it opens the section's part of it
            at = same[0] if same else len(out)
        out.insert(at, u)
    return out


def render_unit(u: Unit, n: int, prev_cites: int | None) -> str:
    """A block with its citation: on its lead sentence ("To do X [3]:"), else on a line
    of its own after it, unless the paragraph before it already cites the same passage."""
    if u.kind == "steps":  # every step is a claim of its own: each carries the marker
        block = "\n".join(_marked(item, n) for item in u.markdown.split("\n"))
    else:
        block = u.markdown
    if u.lead and u.show_lead:
        lead = u.lead[2]
        # "... like this: [3]" (a marker before the colon would read as a link definition)
        lead = f"{lead} [{n}]" if lead.endswith(":") else _marked(lead, n)
        return f"{lead}\n\n{block}"
    if u.kind == "code" and prev_cites != n:
        return f"{block}\n\n[{n}]"
    return block


def _marked(text: str, n: int) -> str:
    m = re.search(r"[.!?]$", text)
    return f"{text[: m.start()]} [{n}]{m.group(0)}" if m else f"{text} [{n}]"
