"""Draft quality of the extractive engine over the corpus (issue 9, point 3; `make bench`).

Each brief (documents + topic) is ingested and written through ``draftsmith.oneshot`` (the
whole pipeline in one process, a throw-away SQLite database). Per draft it prints:

- ``on-topic``: sections on topic / sections. A section is on topic when the cosine between
  its words and the brief's *reader terms* (the topic's words plus a few words a reader of
  that topic expects, written by hand in ``BRIEFS``, never taken from the engine) is at
  least ``ON_TOPIC_COSINE``. Words are lower-cased, stop words dropped and crudely stemmed
  here (``_stem``), independently of ``draftsmith.text``. The introduction and the
  conclusion are not counted as sections.
- ``debris``: matches of the patterns in ``DEBRIS`` over the draft's prose (code blocks
  and the Sources list left out), by kind;
- ``verbatim``: share of body sentences found verbatim (whitespace and citation markers
  aside) in a selected document's extracted text;
- ``cited``: share of body paragraphs (prose, lists and code) carrying a citation;
- ``docs``: documents cited / documents selected; ``code``: fenced code blocks;
- off-topic briefs (``covered=False``): whether the generation was refused
  (``topic_not_covered``), else "NOT refused".

``--show N`` prints the Markdown of draft N (1-based); ``--only N,M`` runs only those;
``--brief TOPIC FILE...`` writes and prints one draft from any documents (to read drafts
from documents the engine was never tuned on). Briefs whose files are missing (Debian's
documentation, 18-20) are skipped.
Needs the corpus (DRAFTSMITH_CORPUS_DIR, default ../shared/corpus).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src")]
CORPUS = Path(os.environ.get("DRAFTSMITH_CORPUS_DIR", ROOT.parent / "shared" / "corpus"))
ON_TOPIC_COSINE = 0.12


@dataclass(frozen=True)
class Brief:
    files: tuple[str, ...]
    topic: str
    #: words a reader of the topic expects besides the topic's own (the expansion)
    expects: str
    covered: bool = True
    length: str = "medium"


BRIEFS = [
    Brief(
        ("md/pypdf_extract-text.md",),
        "How to extract text from a PDF with pypdf, with code examples",
        "extract_text page reader pypdf layout orientation visitor text extraction",
    ),
    Brief(
        ("md/docling_OCR.md",),
        "Configuring OCR engines in Docling",
        "ocr engine rapidocr easyocr tesseract language options pipeline backend install",
    ),
    Brief(
        ("md/docling_faq.md",),
        "Installing Docling and fixing dependency conflicts",
        "install pip python version numpy package poetry conflict error torch",
    ),
    Brief(
        ("html/dl_wiki_duck.html",),
        "Duck behaviour, feeding and breeding",
        "duck ducks feed food water breed nest eggs male female species dabbling diving",
    ),
    Brief(
        ("html/un_example-with-scripts.html",),
        "Belarus and the Russian offensive in Ukraine in December 2022",
        "belarusian russian forces ukraine ukrainian military troops lukashenko border attack",
    ),
    Brief(
        ("pdf/pm_naacl06-shinyama.pdf",),
        "Preemptive information extraction with unrestricted relation discovery",
        "relation extraction clustering articles entities event patterns query named",
    ),
    Brief(
        ("pdf/un_multi-column.pdf",),
        "Dense passage retrieval for open-domain question answering",
        "passage retrieval dense question answering encoder bm25 training retriever accuracy",
    ),
    Brief(
        ("pdf/dl_redp5110_sampled.pdf",),
        "Row and column access control in DB2 for i",
        "row column access control permission mask security database table user authority",
    ),
    Brief(
        ("pdf/pm_dmca.pdf",),
        "How the DMCA limits the liability of online service providers",
        "service provider liability copyright infringement safe harbor notice material "
        "online limitation",
    ),
    Brief(
        ("pdf/un_failure-after-repair.pdf",),
        "Treatment options for early breast cancer",
        "breast cancer surgery radiotherapy chemotherapy hormone therapy treatment doctor",
    ),
    Brief(
        ("docx/un_handbook-872p.docx",),
        "The duties of a chapter 13 standing trustee",
        "trustee chapter standing duties debtor plan case payments bankruptcy united states",
    ),
    Brief(
        ("md/pypdf_extract-text.md", "md/docling_OCR.md"),
        "OCR versus text extraction for PDF documents",
        "ocr text extraction pdf scanned image engine characters layout",
    ),
    Brief(
        ("pdf/un_multi-column.pdf", "pdf/pm_naacl06-shinyama.pdf"),
        "Retrieving and extracting information from text collections",
        "retrieval extraction passage documents query relation question answering",
    ),
    Brief(
        ("pdf/pm_i1040nr.pdf", "docx/dl_word_sample.docx"),
        "Who must file Form 1040NR",
        "nonresident alien file return income tax form united states",
    ),
    Brief(
        ("html/dl_wiki_duck.html", "docx/dl_word_sample.docx"),
        "Ducks swimming and feeding",
        "duck ducks swim water lake food feed paddle",
    ),
    # read only once, at the end (not tuned on)
    Brief(
        ("pdf/plumb_federal-register-2020-17221.pdf",),
        "The FAA's proposed airworthiness directive and what it requires",
        "airworthiness directive faa proposed airplanes inspection compliance costs operators",
    ),
    Brief(
        ("html/un_example-10k-1p.html",),
        "The company's business and the risks it faces",
        "company business risk factors operations revenue market products customers",
    ),
    # documents outside the corpus, never tuned on: Debian's own documentation (skipped
    # where it is not installed) and the corpus' full 10-K and GeoBase model
    Brief(
        ("/usr/share/doc/shared-mime-info/shared-mime-info-spec.pdf",),
        "How shared-mime-info detects a file's MIME type",
        "mime type file glob magic pattern match extension database content xml",
    ),
    Brief(
        ("/usr/share/doc/ninja-build/manual.html",),
        "How to write a build file for Ninja",
        "ninja build file rule statement variable command input output dependency",
    ),
    Brief(
        ("/usr/share/doc/zlib1g-dev/examples/zlib_how.html",),
        "Using zlib's deflate and inflate to compress a stream",
        "zlib deflate inflate compress stream buffer input output flush strm avail",
    ),
    Brief(
        ("html/un_example-10k.html",),
        "Galaxy Gaming's table games and licensing revenue",
        "table games casino license revenue side bets premium games clients fees",
    ),
    Brief(
        ("pdf/pypdf_GeoBase_NHNC1_Data_Model_UML_EN.pdf",),
        "The GeoBase national hydro network data model",
        "hydro network data model package class feature geometry waterbody toponymy",
    ),
    Brief(
        ("md/docling_faq.md",),
        "Kubernetes pod networking explained",
        "kubernetes pod network cluster container service ip",
        covered=False,
    ),
    Brief(
        ("pdf/un_multi-column.pdf",),
        "Baking sourdough bread at home",
        "bread sourdough starter flour dough bake oven",
        covered=False,
    ),
    Brief(
        ("html/dl_wiki_duck.html",),
        "The military campaigns of the Roman Empire",
        "roman empire legion army campaign emperor war",
        covered=False,
    ),
]

# ---------------------------------------------------------------------- measures

_STOP = set(
    """a about above after again all also an and any are as at be because been before being
    between both but by can could did do does doing down during each few for from further
    had has have having he her here hers him his how i if in into is it its itself just me
    more most my no nor not now of off on once only or other our out over own same she
    should so some such than that the their them then there these they this those through
    to too under until up very was we were what when where which while who whom why will
    with would you your post looks at one two may use used using""".split()
)


def _stem(w: str) -> str:
    for suffix in ("ations", "ation", "ings", "ing", "ies", "ied", "es", "ed", "ly", "s"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            return w[: -len(suffix)]
    return w


def _bag(text: str) -> Counter:
    words = re.findall(r"[a-z][a-z0-9_]+", text.lower())
    return Counter(_stem(w) for w in words if w not in _STOP)


def _cosine(a: Counter, b: Counter) -> float:
    dot = sum(v * b.get(k, 0) for k, v in a.items())
    na = math.sqrt(sum(v * v for v in a.values()))
    nb = math.sqrt(sum(v * v for v in b.values()))
    return dot / (na * nb) if na and nb else 0.0


DEBRIS = {
    # "Perl1 is", "data frames2." (a footnote number glued to a word)
    "footnote": re.compile(r"\b[a-z]{3,}[a-z]\d{1,2}(?=[\s,.;:)])(?!\.\w)"),
    # "4 A different style" (a footnote or page number opening a sentence)
    "num-open": re.compile(r"(?:^|[.!?]\s)\d{1,3}\s+[A-Z][a-z]+\s"),
    "header/footer": re.compile(
        r"\bpage \d+(?: of \d+)?\b|©|\ball rights reserved\b|\bcontinued on\b", re.I
    ),
    # "The read.table() function To read ..." (a heading run into the prose)
    "run-in heading": re.compile(
        r"[a-z)] (?:To|The|In|This|A|An|We|It|For|When|If|You)\s[a-z]+\s[a-z]"
    ),
    # "uses./", "word ,", "end.Next"
    "spacing": re.compile(r"[a-z]{2}[.,;:]/|\w \s*[,;:](?=\s)|[a-z]{3}[.,;][A-Z][a-z]"),
    "decoration": re.compile(r"\*\*\s+\*\*|/\*|\*/|^\s*\*(?!\*)\s", re.M),
    "leaning": re.compile(
        r"\b(?:we|our|us)\b|\bas (?:shown|seen|mentioned|discussed|described|noted) "
        r"(?:above|below|earlier|before)|\bsee (?:above|below)\b",
        re.I,
    ),
}

_FENCE = re.compile(r"```.*?```", re.S)
_MARKER = re.compile(r"\s?\[\d+\]")


def _body(markdown: str) -> str:
    return re.split(r"(?m)^## Sources\s*$", markdown)[0]


def _sections(body: str) -> list[tuple[str, str]]:
    parts = re.split(r"(?m)^## (.+)$", body)
    return [(parts[i].strip(), parts[i + 1]) for i in range(1, len(parts) - 1, 2)]


def _prose(body: str) -> str:
    """The draft's prose: no code blocks, headings, link targets, URLs or inline code."""
    text = _FENCE.sub("", body)
    text = re.sub(r"\]\([^)\s]*\)", "]", text)
    text = re.sub(r"https?://\S+|`[^`\n]*`", "X", text)
    return "\n".join(ln for ln in text.splitlines() if not ln.startswith("#"))


def _sentences(prose: str) -> list[str]:
    out = []
    for para in prose.split("\n\n"):
        para = _MARKER.sub("", " ".join(para.split()))
        para = re.sub(r"^(?:\d+\.|[-*])\s+", "", para)
        out += [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", para) if len(s.split()) >= 4]
    return out


def measure(brief: Brief, markdown: str, citations: list, sources: dict[str, str]) -> dict:
    body = _body(markdown)
    reader = _bag(f"{brief.topic} {brief.expects}")
    conclusion = ("Conclusion", "Fazit", "Conclusión", "Conclusion")
    sections = [(h, t) for h, t in _sections(body) if h not in conclusion]
    cosines = [_cosine(_bag(f"{h} {t}"), reader) for h, t in sections]
    prose = _prose(body)
    debris = Counter()
    examples: list[str] = []
    for kind, pattern in DEBRIS.items():
        for m in pattern.finditer(prose):
            debris[kind] += 1
            if len(examples) < 6:
                examples.append(f"{kind}: …{prose[max(0, m.start() - 30) : m.end() + 20]!r}…")
    framing = re.compile(r"^(?:This post (?:looks at|covers)|To recap, this post)")
    plain = "\n".join(ln for ln in _FENCE.sub("", body).splitlines() if not ln.startswith("#"))
    sentences = [s for s in _sentences(plain) if not framing.match(s)]
    flat = {name: " ".join(text.split()) for name, text in sources.items()}
    verbatim = sum(1 for s in sentences if any(s in t for t in flat.values()))
    blocks = _FENCE.sub("```code```", body)
    paragraphs = [
        p for p in re.split(r"\n\s*\n", blocks) if p.strip() and not p.lstrip().startswith("#")
    ]
    # a code block is cited by the line that leads to it or by a marker right after it
    cited = sum(
        1
        for i, p in enumerate(paragraphs)
        if _MARKER.search(p)
        or (p.startswith("```") and any(_MARKER.search(q) for q in paragraphs[i - 1 : i + 2]))
    )
    used = {c["document_id"] for c in citations}
    return {
        "sections": len(sections),
        "on_topic": sum(1 for c in cosines if c >= ON_TOPIC_COSINE),
        "cosine": sum(cosines) / len(cosines) if cosines else 0.0,
        "debris": debris,
        "examples": examples,
        "verbatim": verbatim / len(sentences) if sentences else 0.0,
        "cited": cited / len(paragraphs) if paragraphs else 0.0,
        "docs": len(used),
        "code": len(_FENCE.findall(body)),
        "words": len(prose.split()),
    }


# ---------------------------------------------------------------------- running


async def run(selected: list[int], show: set[int]) -> None:
    from draftsmith.documents.models import Document
    from draftsmith.oneshot import ingest, local_context, local_user_id, scratch_settings

    absent = {i for i in selected if not all((CORPUS / f).is_file() for f in BRIEFS[i].files)}
    for i in sorted(absent):
        print(f"{i + 1:>2} skipped: {', '.join(BRIEFS[i].files)} not here")
    selected = [i for i in selected if i not in absent]
    names = sorted({f for i in selected for f in BRIEFS[i].files})
    async with scratch_settings(max_upload_mb=100) as settings, local_context(settings) as ctx:
        user_id = await local_user_id(ctx, None)
        results = await ingest(ctx, user_id, [CORPUS / n for n in names])
        ids = {n: r.document_id for n, r in zip(names, results, strict=True)}
        sources: dict[str, str] = {}
        async with ctx.db() as db:
            for doc_id in ids.values():
                doc = await db.get(Document, doc_id)
                sources[doc_id] = doc.markdown or ""
        print(
            f"{'#':>2} {'brief':<46} {'on-topic':>8} {'cos':>5} {'debris':>6} {'verbatim':>8} "
            f"{'cited':>5} {'docs':>5} {'code':>4} {'words':>5}  refused/debris kinds"
        )
        totals = Counter()
        for i in selected:
            brief = BRIEFS[i]
            blog = await _generate(ctx, user_id, [ids[f] for f in brief.files], brief)
            label = f"{'/'.join(Path(f).stem[:18] for f in brief.files)}: {brief.topic}"[:46]
            if blog.status != "ready":
                refused = blog.error_code == "topic_not_covered"
                verdict = (
                    "refused"
                    if refused
                    else f"failed {blog.error_code}: {getattr(blog, 'error', '')}"
                )
                if not brief.covered:
                    totals["off_refused"] += refused
                print(f"{i + 1:>2} {label:<46} {verdict}")
                continue
            m = measure(brief, blog.markdown, blog.citations, sources)
            kinds = ", ".join(f"{k} {v}" for k, v in sorted(m["debris"].items()))
            note = "" if brief.covered else "NOT refused; "
            print(
                f"{i + 1:>2} {label:<46} {m['on_topic']:>3}/{m['sections']:<4} "
                f"{m['cosine']:>5.2f} {sum(m['debris'].values()):>6} {m['verbatim']:>8.2f} "
                f"{m['cited']:>5.2f} {m['docs']:>2}/{len(brief.files):<2} {m['code']:>4} "
                f"{m['words']:>5}  {note}{kinds}"
            )
            if brief.covered:
                totals["sections"] += m["sections"]
                totals["on_topic"] += m["on_topic"]
                totals["debris"] += sum(m["debris"].values())
                totals["drafts"] += 1
            if i + 1 in show:
                print("\n".join("      " + e for e in m["examples"]))
                print(blog.markdown)
        off = sum(1 for i in selected if not BRIEFS[i].covered)
        print(
            f"\nOn-topic briefs: {totals['on_topic']}/{totals['sections']} sections on topic "
            f"(cosine >= {ON_TOPIC_COSINE}), {totals['debris']} debris matches over "
            f"{totals['drafts']} drafts; off-topic briefs refused: {totals['off_refused']}/{off}"
        )


async def _generate(ctx, user_id: str, document_ids: list[str], brief: Brief):
    from draftsmith.blogs import service as blogs
    from draftsmith.blogs.models import Blog
    from draftsmith.jobs import runner
    from draftsmith.sessions.models import GenerationSession

    async with ctx.db() as db:
        session = GenerationSession(
            user_id=user_id,
            topic=brief.topic,
            document_ids=document_ids,
            length=brief.length,
            engine="extractive",
        )
        db.add(session)
        await db.commit()
        blog = await blogs.start_generation(db, session)
    await asyncio.wait_for(runner.run(ctx, "blog", blog.id), timeout=600)
    async with ctx.db() as db:
        return await db.get(Blog, blog.id)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default="", help="comma-separated brief numbers (1-based)")
    parser.add_argument("--show", default="", help="comma-separated brief numbers to print")
    parser.add_argument(
        "--brief",
        nargs="+",
        metavar=("TOPIC", "FILE"),
        help="an ad-hoc brief instead of the set: a topic, then documents (any path); printed",
    )
    args = parser.parse_args()
    if args.brief:
        topic, *files = args.brief
        BRIEFS[:] = [Brief(tuple(str(Path(f).resolve()) for f in files), topic, topic)]
        asyncio.run(run([0], {1}))
        return
    if not CORPUS.is_dir():
        print(f"No corpus at {CORPUS}: skipped.")
        return
    selected = [int(x) - 1 for x in args.only.split(",") if x] or list(range(len(BRIEFS)))
    show = {int(x) for x in args.show.split(",") if x}
    asyncio.run(run(selected, show))


if __name__ == "__main__":
    main()
