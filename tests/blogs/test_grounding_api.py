"""Grounding over the API (issue 9): a generated draft is grounded; a saved edit with an
invented claim citing a missing source and one citing a real source is flagged, with
offsets into the Markdown; each revision carries its own grounding; exports never link
a source that does not exist."""

from __future__ import annotations

import lxml.html

from tests.blogs.helpers import generate, new_session, ready_documents
from tests.blogs.test_generation_api import SOURCES, TOPIC, wait_blog

UNKNOWN = "Tide pools were first mapped by satellites in 1987 [99]."
INVENTED = "Sea stars in tide pools vote for a new leader every 14 months [1]."


def _with_claims(markdown: str) -> str:
    """The draft with two invented sentences closing its first body paragraph."""
    body, sources = markdown.split("\n## Sources", 1)
    paragraphs = body.split("\n\n")
    i = next(i for i, p in enumerate(paragraphs) if p.strip() and not p.startswith("#"))
    paragraphs[i] = f"{paragraphs[i].rstrip()} {UNKNOWN} {INVENTED}"
    return "\n\n".join(paragraphs) + "\n## Sources" + sources


async def test_saved_edit_is_grounded_again_and_flags_invented_claims(app, user):
    doc_ids = await ready_documents(user, *SOURCES)
    session = await new_session(user, doc_ids, topic=TOPIC, length="short")
    blog = await wait_blog(user, await generate(user, session["id"]))
    assert blog["status"] == "ready", blog["error"]
    generated = blog["grounding"]
    assert set(generated) == {"score", "checked", "flagged"}
    assert generated["checked"] > 5 and generated["flagged"] == [] and generated["score"] == 1.0
    assert "passage" not in blog["citations"][0]  # stored for checks, not part of the API

    markdown = _with_claims(blog["markdown"])
    saved = await user.request(
        "PATCH", f"/api/v1/blogs/{blog['id']}", json={"revision": 1, "markdown": markdown}
    )
    assert saved.status_code == 200, saved.text
    grounding = saved.json()["grounding"]
    flagged = {f["reason"]: f for f in grounding["flagged"]}
    assert set(flagged) == {"unknown_citation", "unsupported"}, grounding["flagged"]
    assert flagged["unknown_citation"]["citations"] == [99]
    assert flagged["unsupported"]["citations"] == [1]
    for f, sentence in ((flagged["unknown_citation"], UNKNOWN), (flagged["unsupported"], INVENTED)):
        assert markdown[f["start"] : f["end"]] == sentence == f["sentence"]
    assert grounding["checked"] == generated["checked"] + 2
    assert grounding["score"] == round(1 - 2 / grounding["checked"], 3)

    revision_2 = (await user.get(f"/api/v1/blogs/{blog['id']}/revisions/2")).json()
    revision_1 = (await user.get(f"/api/v1/blogs/{blog['id']}/revisions/1")).json()
    assert revision_2["grounding"] == grounding and revision_1["grounding"] == generated

    html = (await user.get(f"/api/v1/blogs/{blog['id']}/export?format=html")).text
    root = lxml.html.fromstring(html)
    hrefs = {a.get("href") for a in root.iter("a") if a.get("class") == "cite-link"}
    assert "#source-1" in hrefs and "#source-99" not in hrefs
    assert "1987 [99]." in root.text_content()
