"""What the extractive engine opens on and which sections it chooses, on a small spec made
here (in the manner of a freedesktop specification): the introduction opens on the
sentences that frame the topic, not on a side detail that happens to define one of its
words; for a topic asking how something works, the section that describes how beats a
longer one that only shares the topic's words."""

from __future__ import annotations

import re

from draftsmith.generation import ExtractiveEngine, GenerationRequest, Passage
from draftsmith.generation.citations import split_body, strip_markers
from draftsmith.text.sentences import split_sentences

TOPIC = "How the shelf database detects a file's widget type"

OPENING = "Many programs and desktops use widget types to represent the kinds of files."
FRAMING = "Frequently, it is necessary to work out the correct widget type for a file."
SIDE_DETAIL = (
    "The pattern file is a simple list of lines containing a widget type and a pattern, "
    "separated by a colon."
)

SPEC: list[tuple[str, list[str]]] = [
    (
        "Introduction",
        [
            "This is version 0.21 of the specification, last updated on the second of "
            "October 2018.",
            "The key words must, should and may in this document are to be interpreted as "
            "described in RFC 2119.",
            "Comments on this document are welcome on the mailing list of the desktop group.",
            OPENING,
            FRAMING,
            "This is generally done by examining the file's name or contents, and looking up "
            "the correct widget type in a database.",
            "For interoperability, it is useful for different programs to use the same "
            "database so that they agree on the type of a file.",
        ],
    ),
    (
        "Directory layout",
        [
            "There are two important requirements for the way the shelf database is stored.",
            "Applications must be able to extend the database in any way when they are installed.",
            "Each directory holds a packages folder with the source files of its packages.",
            "A file in a user's own directory takes precedence over the same file elsewhere.",
        ],
    ),
    (
        "The source XML files",
        [
            "Each source file describes the widget types that one package provides.",
            "The document element may contain any number of type elements, each describing "
            "a single widget type of a file.",
            "Each type element has a type attribute giving the widget type that it describes.",
            "A comment element gives a human readable description of the widget type.",
            "A pattern element gives a file name pattern for files of this widget type.",
            "A weight attribute on a pattern element is used when two patterns of a file conflict.",
            "A content element holds byte sequences found at fixed offsets in a file of "
            "this widget type.",
            "An alias element gives another name under which the widget type is known.",
            "An icon element names the icon shown for files of this widget type.",
            "Applications may add elements of their own, provided they are namespaced to "
            "prevent collisions.",
            "Unknown elements are copied to the output files like comment elements.",
            "The type attribute of every element is compared case-insensitively.",
            "A package should only describe the widget types that it installs itself.",
            "Descriptions may be given in many languages, each with its own lang attribute.",
            "The update program merges the source files of every package into one output.",
            "It must be run each time a package adds or removes a source file.",
            "Programs never read the source files themselves, only the merged output.",
            "A broken source file is skipped with a warning, the others are still merged.",
        ],
    ),
    (
        "Recommended checking order",
        [
            "Because programs have different needs, they may use these methods in any order.",
            "However, the recommended order to perform the checks is as follows.",
            "If a widget type is given explicitly, for example by a header, then that should "
            "be used instead of guessing.",
            "Otherwise, start by matching the file name against the patterns.",
            "If the matching fails or gives several types, read the start of the file and "
            "compare it with the content rules.",
            "If no content rule matches, use the default type for binary or for text data.",
            "Finally, when the name and the content disagree, the name wins.",
            "Checking the name first is cheaper than reading the contents of the files.",
        ],
    ),
    (
        "The pattern files",
        [
            SIDE_DETAIL,
            "The shelf database detects the widget type of a file from its pattern file first.",
            "Lines starting with a hash sign are comments and are ignored.",
            "The widget type of a pattern comes first on its line, the pattern after it.",
            "Patterns with a weight come before those without one in the same file.",
        ],
    ),
    (
        "Security implications",
        [
            "The shelf database is read by many programs, some of them with high privileges.",
            "A program should never run a file because of its widget type alone.",
            "Users can easily understand why a file named after another kind is shown as one.",
        ],
    ),
]


def spec_passages() -> list[Passage]:
    """One passage per section (two for a long one), as the chunker cuts a Markdown file."""
    text = ""
    spans: list[tuple[str, int, int]] = []
    for heading, sentences in SPEC:
        block = f"## {heading}\n\n"
        for k in range(0, len(sentences), 6):
            start = len(text) + (len(block) if k else 0)
            block += " ".join(sentences[k : k + 6]) + "\n\n"
            spans.append((heading, start, len(text) + len(block)))
        text += block
    return [
        Passage(f"spec:{i}", "spec", "spec.md", None, s, e, text[s:e], h)
        for i, (h, s, e) in enumerate(spans)
    ]


async def spec_draft(topic: str = TOPIC, length: str = "short"):
    return await ExtractiveEngine().generate(
        GenerationRequest(topic=topic, length=length), spec_passages()
    )


def intro_sentences(markdown: str) -> list[str]:
    body, _ = split_body(markdown)
    intro = body.split("\n## ", 1)[0].split("\n", 1)[1]
    return [s.text for s in split_sentences(strip_markers(intro))]


def section_headings(markdown: str) -> list[str]:
    return [h for h in re.findall(r"(?m)^## (.+)$", markdown) if h not in ("Conclusion", "Sources")]


async def test_introduction_opens_on_the_sentence_that_frames_the_topic():
    draft = await spec_draft()
    intro = intro_sentences(draft.markdown)
    # the spec's own introduction, not "The pattern file is a ...": that defines a word of
    # the topic ("file"), not its subject, and comes from the middle of the spec
    assert intro[0] in (OPENING, FRAMING), intro
    assert FRAMING in intro[:2]
    assert SIDE_DETAIL not in intro[:3]


async def test_a_how_topic_gets_the_section_that_says_how():
    draft = await spec_draft()
    headings = section_headings(draft.markdown)
    # the longest section shares more of the topic's words ("widget type", "file"), the
    # checking order answers "how ... detects"
    assert "Recommended checking order" in headings, headings
