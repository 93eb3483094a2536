"""Source sentences fit for a draft: tidying them for display and the quality
filters that reject debris (fragments, math, tables, captions, references,
headers, run-in headings)."""

from __future__ import annotations

import re

from draftsmith.text.forms import FORM_LINE
from draftsmith.text.sentences import ABBREVIATIONS, CUT_OFF_ABBREVIATIONS, FUNCTION_WORDS
from draftsmith.text.tokens import CJK_RE, tokenize
from draftsmith.text.words import normalize_whitespace, word_count

from .lexicon import NOUN_CASE_WORDS

#: "... not to do that.", "... is shown in this." - refers back to something before it
ENDS_ON_REFERENCE = re.compile(
    r"\b(?:this|that|these|those|it|them|there|here|above|so)[\"'”’)]*[.!?][\"'”’)]*$",
    re.IGNORECASE,
)
_META = re.compile(
    r"\b(?:fig(?:ure)?s?\.?\s*\d|tables?\s+\d|tab\.\s*\d|eq(?:uation)?s?\.?\s*\(?\d|"
    r"sections?\s+\d|appendix|chapter\s+\d|see (?:above|below)|shown (?:above|below)|"
    r"as follows|the following|listed below|page \d|p\.\s*\d|footnote|et al\.?\s*\(\d{4}|"
    r"\(\d{4}\)|\b\d{4}[a-z]?\)|(?:next|previous|following|last|this) "
    r"(?:section|chapter|paragraph)|"
    r"abbildung\s+\d|tabelle\s+\d)",
    re.IGNORECASE,
)
SOFT_META = re.compile(
    r"\b(?:this paper|this section|this chapter|this article|this document|this report|this guide|"
    r"this manual|this specification|the (?:remainder|rest) of this|"
    r"in this work|we propose|our approach|our method|click|below|above|here is|here are|"
    r"as mentioned|as described|mentioned earlier|described earlier|refer to|for more details|"
    r"for more information|more details)\b",
    re.IGNORECASE,
)
#: a bullet drawn with a symbol font and extracted as "!" ("... provider.! The ...")
_BULLET_GLYPH = re.compile(r"(?<=[.?;:])!(?=\s|$)|^!\s+")
_SOURCE_REF = re.compile(r"\s?\[\d{1,3}(?:\s*[,–-]\s*\d{1,3})*\]")
#: "(Voorhees, 1999)", "(Chen et al., 2017; Lee and Kim, 2019)"
_AUTHOR_YEAR = re.compile(
    r"\s?\((?:(?:e\.g\.|see|cf\.)[,\s]+)?(?:[A-Z][^()\d;]{0,80}?,?\s(?:19|20)\d{2}[a-z]?"
    r"(?:,\s*pp?\.\s*[\d–-]+)?\s*(?:;\s*)?)+\)"
)
HTML_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_CTRL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffd\x7f]")
TERMINAL = re.compile(r"[.!?。！？][\"'”’)\]»」』）*_]*$")
ENDS_CLAUSE = re.compile(r"[.!?。！？:][\"'”’)\]»」』）*_]*$")
_MID_PERIOD = re.compile(r"(?<![\w.])([\w.]*\w)\. [a-z]")
_MATH = re.compile(
    r"[≤≥×∑∏√∈∉∀∃·˜ˆ∗⊂⊆⊃⊇∩∪≈≠≡≅∼±→←↦⇒⇔↔∂∇∫∞∠⊥∥∅\u0370-\u03ff]|\b[a-z]\s?\(\s?[a-z]\s?\)"
)
_EQUATION = re.compile(r"=|\s[<>]\s|\w\s?[<>]\s?\w|[<>]\(")
_BIBLIO = re.compile(
    r"\b(?:in proceedings|proceedings of|arxiv|preprint|pp\.\s*\d|pages\s+\d+\s*[–-]\s*\d+|"
    r"association for computational linguistics|journal of|conference on|vol\.\s*\d|doi:|isbn)\b",
    re.IGNORECASE,
)
_FOOTER = re.compile(
    r"^\d+\s+\d+(?:\.\d+)*\.?\s+\S|©|\bcopyright\b|\ball rights reserved\b|\bpage \d+ of \d+\b|"
    r"\bconfidential\b|\bdownloaded from\b|\bprinted in\b",
    re.IGNORECASE,
)
_INLINE_HEADING = re.compile(
    r"^(?:\d+(?:\.\d+)*\s+)?[A-Z][\w-]*(?:\s+(?:[a-z][\w-]*|[A-Z]{2,}|\([A-Z]+\))){0,4}\s+"
    r"(?:We|One|For|The|In|Our|This|It|A|An|To|As|Given|Although|While|Since|Unlike|Here|"
    r"Besides|When|If|During|After|Before|Using|With|Most|Many|Some|All|Each|These|Both|"
    r"There|Instead|However|Because|Once|Our|Finally|First|Second)\s"
    r"|\b\d+(?:\.\d+)*\s+[A-Z][\w-]*(?:\s+[A-Z(][\w)-]*)+\s+(?:We|The|In|Our|This)\s"
    r"|(?:^|\s)\d{1,2}[A-Z](?:[a-z]|[A-Z]{2})"
)
_RUN_IN_LABEL = re.compile(
    r"^(?:Beispiel|Bemerkung|Definition|Satz|Lemma|Korollar|Theorem|Proposition|Corollary|"
    r"Example|Remark|Proof|Beweis|Aufgabe|Exercise|Problem|Übung|Hinweis|Note|Fall|Case|"
    r"Step|Schritt|Algorithm|Algorithmus)\s*(?:\d[\d.]*\s*[a-z]?\b|:|\()"
    r"|^(?:Vor|Beh|Bew|Bsp|Bem|Def|Kor|Vgl)\.\s*:?"
)
_FOOTNOTE_GLUE = re.compile(
    r"\b[A-Za-z][a-z]{2,}\d{1,2}[,.;:]?\s|\.\d{1,2}\s+[A-Z]|\b[a-z]{3,}\d{1,2}\s+[A-Z]"
)
#: the source authors' voice ("we", "our"): not the post's
_FIRST_PERSON = re.compile(r"\b(?:we|our|ours|us|ourselves)\b", re.IGNORECASE)
#: leans on a context the draft does not have
_MISSING_CONTEXT = re.compile(
    r"\b(?:the above|above[- ]mentioned|as (?:shown|seen|mentioned|discussed|described|noted|"
    r"explained|stated) (?:above|below|earlier|before|previously)|in this (?:experiment|figure))\b",
    re.IGNORECASE,
)
#: C comment decoration ("/* ... */", "** **", a line opening on "* ")
_DECORATION = re.compile(r"/\*|\*/|\*\*\s*\*\*|(?:^|\s)\*(?:\s|$)")
#: a footnote or page number opening a sentence ("4 A different style ...") or a page
#: header run into one ("Roles and separation of duties 11 For example, ...")
_FOOTNOTE_OPENING = re.compile(
    r"^\d{1,3}\s+[A-Z][a-z]*\s|[a-z]\s\d{1,3}\s(?:A|An|The|This|In|It|See|For|Note|On|If)\s"
)
#: a heading run into the first words of a sentence ("The read.table() function To read")
_RUN_IN_CAPITAL = re.compile(
    r"^(?:\S+\s){1,7}?\S*[a-z)]\s(?:To|The|In|This|An|For|When|If|You|It)\s[a-z]"
)
#: a footnote number standing mid-sentence ("system 2 generated", "threshold 13 would"),
#: not a count ("more than 3 pools", "the 2 sensors", "took 3 weeks")
#: a bibliography key glued to a word: "the MIME system[MIME]", "database[SharedMIME]"
_GLUED_KEY = re.compile(r"[a-z]\[[A-Z][\w-]*\](?!\()")
_FOOTNOTE_MIDDLE = re.compile(
    r"\b(?!(?:than|of|about|to|and|or|with|by|for|in|at|the|over|under|every|all|these|"
    r"those|from|within|after|before|until|on|per|some|only|just|nearly|almost|around|least|"
    r"most|each|page|pages|step|steps|chapter|section|table|figure|version|level|type|class|"
    r"model|number|no|line|item|phase|stage|day|week|year|month|hour|minute|are|were|is|was|"
    r"be|been|have|has|had|get|got|top|first|last|next|remaining|other|another|are)\b)"
    r"[a-z]{3,} \d{1,2} (?!(?:percent|times|years?|months?|weeks?|days?|hours?|minutes?|"
    r"seconds?|km|cm|mm|kg|miles?|feet|inches|people|of|or|and|to|out|per|more|less|bits?|"
    r"bytes?|[a-z]+s)\b)[a-z]"
)
#: words ending in digits that are names, not footnote markers
_DIGIT_NAMES = re.compile(
    r"\b(?:python|win|utf|base|sha|md|html|css|es|ipv|mp|x|h|ucs|iso|latin|ascii|log|top|pdf|web)\d+\b",
    re.IGNORECASE,
)
#: the source authors' voice ("we", "our"): not the post's
_YEAR = re.compile(r"\b(?:19|20)\d{2}[a-z]?\b|\bet al\b|\bProceedings\b|\barXiv\b")
_NUMBERED_HEADING = re.compile(r"^(?:\d{1,2}(?:\.\d{1,2})*\.?|[IVX]{1,4}\.)\s+[^\W\d_]")

#: sentences left out for reasons that do not break the flow of the text around them
SKIPPABLE = {
    "figure/table reference",
    "math",
    "bibliography",
    "bare url",
    "markup",
    "not prose",
    "table row",
    "header or footer",
    "footnote marker",
    "e-mail address",
    "control characters",
    "first person",
    "missing context",
}


def dedupe_key(text: str) -> str:
    return " ".join(tokenize(text))


#: a full stop glued to the next sentence's opening word; identifiers ("System.IO",
#: "node.js") are left alone because the word after must be a common sentence opener
_GLUED_SENTENCE = re.compile(
    r"(?<=[a-z]{3})\.(?=(?:The|This|These|Those|That|It|Its|In|On|For|If|When|Each|All|An?)\s)"
)


def clean_display(raw: str) -> str:
    """Draft text of a source sentence: whitespace collapsed, hyphenation joined,
    reference markers like "[12]" and author-year citations like "(Smith et al., 2019)"
    removed (they would read as the draft's own citations or clutter a blog post)."""
    text = normalize_whitespace(raw)
    text = _SOURCE_REF.sub("", text)
    text = _BULLET_GLYPH.sub("", text)
    text = _AUTHOR_YEAR.sub("", text)
    # "word ." -> "word." but never "uses ./script" -> "uses./script"
    text = re.sub(r"\.(?:\s\.){2}", "...", text)  # ". . ." is an ellipsis
    text = re.sub(r"\s+([.,;:!?])(?![/\w])", r"\1", text)
    text = _GLUED_SENTENCE.sub(". ", text)  # "geometry.The Metadata" lost its space in the PDF
    return text.strip()


def balanced(text: str) -> bool:
    for a, b in ("()", "[]", "{}"):
        if text.count(a) != text.count(b):
            return False
    if text.count("`") % 2 or text.count("**") % 2 or text.count('"') % 2:
        return False
    if text.count("“") != text.count("”"):
        return False
    return True


def sentence_problem(display: str) -> str | None:
    """Why a sentence is not fit for a draft, or None if it is."""
    if not display:
        return "empty"
    if _CTRL.search(display):
        return "control characters"
    for check in (_shape_problem, _markup_problem, _prose_problem, _debris_problem):
        problem = check(display)
        if problem:
            return problem
    return None


def _shape_problem(display: str) -> str | None:
    """Length, a real beginning and a real end."""
    cjk = len(CJK_RE.findall(display))
    nw = word_count(display)
    if cjk > len(display) * 0.3:
        if not (12 <= len(display) <= 220):
            return "length"
    elif nw < 6 or nw > 60:
        return "length"
    if not TERMINAL.search(display):
        return "no final punctuation"
    if display.rstrip("*_").endswith((":", "...", "…")):
        return "introduces something"
    first = next((ch for ch in display if ch.isalnum()), "")
    if not first or first.islower() or re.match(r"^\d[\d.,]*\s+[a-z]", display):
        return "starts mid-sentence"
    last = re.search(r"(?:^|\s)([\w.]+)\.[\"'”’)\]]*$", display)
    if last and (
        (len(last.group(1)) == 1 and last.group(1).islower())
        or last.group(1).lower() in CUT_OFF_ABBREVIATIONS
    ):
        return "ends on an abbreviation"
    if display[0] in ",;:)]}-–—(" or display.startswith(
        ("#", "|", ">", "```", "Source:", "Sources:")
    ):
        return "fragment"
    return None


def _markup_problem(display: str) -> str | None:
    if re.search(r"\{[\w:-]+\}`|,\s*(?:19|20)\d{2}\.?$", display):
        return "markup"
    if "|" in display or "```" in display or HTML_TAG.search(display) or "\\" in display:
        return "markup"
    if not balanced(display):
        return "unbalanced"
    if "http://" in display or "https://" in display or re.search(r"\bwww\.\w", display):
        if not re.search(r"\]\(https?://", display):
            return "bare url"
    if "@" in display and re.search(r"\w@\w", display):
        return "e-mail address"
    if re.search(r"\$\d|^\d+\s*/\s*\d+\s", display):
        return "table row"
    return None


def _prose_problem(display: str) -> str | None:
    """Mostly letters, not shouting, not a run of Title Case words."""
    nonspace = [ch for ch in display if not ch.isspace()]
    letters = [ch for ch in nonspace if ch.isalpha()]
    digits = sum(ch.isdigit() for ch in nonspace)
    if len(letters) < 0.6 * len(nonspace) or digits > 0.2 * len(nonspace):
        return "not prose"
    if sum(ch.isupper() for ch in letters) > 0.6 * len(letters):
        return "all caps"
    words = [w for w in re.findall(r"[^\W\d_]+", display) if len(w) > 3]
    if len(words) >= 4:
        caps = sum(1 for w in words if w[0].isupper())
        if caps > 0.6 * len(words) and not _capitalises_nouns(display):
            return "title case run"
    return None


def _debris_problem(display: str) -> str | None:
    """Captions, formulas, references, page furniture, run-in headings, glued pieces."""
    if _META.search(display):
        return "figure/table reference"
    if _MATH.search(display) or _EQUATION.search(display):
        return "math"
    singles = [
        t for t in re.findall(r"(?<![\w'’.-])[^\W\d_](?![\w'’.-])", display) if t not in "aAIoOyeè"
    ]
    if len(singles) >= 4:
        return "math"
    if _BIBLIO.search(display):
        return "bibliography"
    if _FOOTER.search(display):
        return "header or footer"
    if FORM_LINE.search(display):
        return "form instruction"
    if (
        _INLINE_HEADING.search(display)
        or _RUN_IN_LABEL.match(display)
        or _RUN_IN_CAPITAL.match(display)
    ):
        return "run-in heading"
    if _FOOTNOTE_GLUE.search(_DIGIT_NAMES.sub("x", display) + " ") or _FOOTNOTE_OPENING.search(
        display
    ):
        return "footnote marker"
    if _FOOTNOTE_MIDDLE.search(display) or _GLUED_KEY.search(display):
        return "footnote marker"
    if _DECORATION.search(display):
        return "markup"
    if _FIRST_PERSON.search(display):
        return "first person"
    if _MISSING_CONTEXT.search(display):
        return "missing context"
    for m in _MID_PERIOD.finditer(display):
        if m.group(1).lower() not in ABBREVIATIONS:
            return "broken sentence"
    return None


def _capitalises_nouns(display: str) -> bool:
    """German capitalises nouns: a capitalised run is normal prose there."""
    toks = set(tokenize(display))
    return len(toks & NOUN_CASE_WORDS) >= 2


def looks_like_bibliography(text: str) -> bool:
    """A reference list: years, "et al." and "Proceedings" in almost every line."""
    words = len(text.split())
    if words < 20:
        return False
    return len(_YEAR.findall(text)) * 100 / words >= 3.0


def runs_on(raw: str) -> bool:
    """The text clearly runs on after this piece (ends with a comma or a function word)."""
    t = raw.rstrip()
    if not t:
        return False
    if t[-1] in ",;-–—(/&+":
        return True
    last = re.sub(r"^\W+|\W+$", "", t.split()[-1]).lower() if t.split() else ""
    return last in FUNCTION_WORDS and not ENDS_CLAUSE.search(t)


def tabular(raw: str) -> bool:
    """Several lines, most of them ending in a number: rows of a table."""
    lines = [ln.strip() for ln in raw.split("\n") if ln.strip()]
    if len(lines) < 2:
        return False
    numeric = sum(1 for ln in lines if re.search(r"(?:^|\s)[\d.,/%()+-]*\d[\d.,/%()+-]*$", ln))
    return numeric * 2 >= len(lines)


def prose_like(display: str) -> bool:
    """Looks like running prose: six or more words, a capital first, final punctuation."""
    first = next((ch for ch in display if ch.isalnum()), "")
    return (
        word_count(display) >= 6
        and first.isupper()
        and bool(TERMINAL.search(display))
        and not re.search(r"\$\d|\|", display)
    )


def numbered_heading(raw: str) -> bool:
    """ "2 Basic Idea", "IV. Results": a numbered heading line."""
    return bool(_NUMBERED_HEADING.match(raw.strip()))
