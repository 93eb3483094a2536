"""A generated blog's citations say where each quote is: printed page label and heading path."""

from __future__ import annotations

import io

import docx

from draftsmith.blogs.schemas import CitationOut
from tests.blogs.helpers import generate, new_session, ready_documents
from tests.blogs.test_generation_api import wait_blog
from tests.documents.helpers import fixture
from tests.fixtures.make import LABELLED_PAGES

TOPIC = "installing and using the lantern clock on Linux and macOS"


def _where(citation: dict) -> str:
    return ", ".join(
        x
        for x in (f"p. {citation['page_label']}" if citation["page"] else "", citation["section"])
        if x
    )


async def test_citations_carry_page_label_and_section_into_the_api_and_exports(app, user):
    pdf_id, md_id = await ready_documents(user, fixture("labelled.pdf"), fixture("tide-pools.md"))
    session = await new_session(user, [pdf_id, md_id], topic=TOPIC, length="short")
    blog = await wait_blog(user, await generate(user, session["id"]))
    assert blog["status"] == "ready", blog["error"]
    pdf_citations = [c for c in blog["citations"] if c["document_id"] == pdf_id]
    assert pdf_citations, blog["citations"]
    content = (await user.get(f"/api/v1/documents/{pdf_id}/content")).json()["markdown"]
    for c in pdf_citations:
        label, blocks = LABELLED_PAGES[c["page"] - 1]
        assert c["page_label"] == label  # the printed number, not the physical one
        # the section is the bookmark path in force where the quote starts
        before = content[: c["start"]]
        titles = [title for _, page_blocks in LABELLED_PAGES for _, title, _ in page_blocks]
        last = max(titles, key=lambda t: before.rfind(t + "\n"))
        assert c["section"].split(" › ")[-1] == last
        assert content[c["start"] : c["end"]] == c["quote"]
    # every page of labelled.pdf prints another number than its position in the file
    assert all(c["page_label"] != str(c["page"]) for c in pdf_citations)
    for c in blog["citations"]:
        if c["document_id"] == md_id:
            assert c["page"] is None and c["page_label"] is None and c["section"]

    sources = blog["markdown"].split("## Sources")[1]
    for c in blog["citations"]:
        assert f"[{c['n']}] {c['document_name']}, {_where(c)} — “" in sources
    exports = {
        fmt: await user.get(f"/api/v1/blogs/{blog['id']}/export", params={"format": fmt})
        for fmt in ("md", "html", "docx")
    }
    assert all(r.status_code == 200 for r in exports.values())
    document = docx.Document(io.BytesIO(exports["docx"].content))
    docx_text = "\n".join(p.text for p in document.paragraphs)
    for c in blog["citations"]:
        where = _where(c)
        assert where in exports["md"].text
        assert (
            where.replace("›", "&rsaquo;") in exports["html"].text or where in exports["html"].text
        )
        assert where in docx_text


def test_citations_stored_before_labels_show_their_page_number():
    old = {"n": 1, "document_id": "d", "document_name": "a.pdf", "page": 7, "quote": "Q."}
    out = CitationOut.model_validate(old)
    assert (out.page_label, out.section) == ("7", None)
    assert CitationOut.model_validate({**old, "page": None}).page_label is None
    assert CitationOut.model_validate({**old, "page_label": "vii"}).page_label == "vii"


async def test_document_content_sections_carry_offsets_labels_and_paths(app, user):
    (doc_id,) = await ready_documents(user, fixture("labelled.pdf"))
    content = (await user.get(f"/api/v1/documents/{doc_id}/content")).json()
    rows = [(s["page"], s["page_label"], s["path"]) for s in content["sections"]]
    assert rows == [
        (1, "i", "Preface"),
        (2, "ii", "Conventions"),
        (3, "1", "Installation"),
        (3, "1", "Installation › Linux"),
        (4, "2", "Installation › macOS"),
        (5, "3", "Usage"),
    ]
    assert all(content["markdown"][s["start"] : s["end"]] == s["text"] for s in content["sections"])
