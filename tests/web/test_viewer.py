"""The document viewer page: a cited span marked in the extracted text, bad links handled gently."""

from __future__ import annotations

import pytest

from draftsmith.documents.viewer import BAD_SPAN_NOTE, build_view
from tests.blogs.helpers import ready_documents
from tests.conftest import browser_login, client_for, make_user
from tests.documents.helpers import fixture, upload, wait_done

LINUX = "On Linux, install the lantern package with the system package manager."


@pytest.fixture
async def owner(app):
    """(API user, cookie browser) of one account, and its labelled.pdf document id and text."""
    async with client_for(app) as api:
        user = await make_user(api)
        (doc_id,) = await ready_documents(user, fixture("labelled.pdf"))
        text = (await user.get(f"/api/v1/documents/{doc_id}/content")).json()["markdown"]
        browser = await browser_login(app)
        yield user, browser, doc_id, text
        await browser.aclose()


async def test_the_span_is_marked_with_its_page_label_and_section(owner):
    _, browser, doc_id, text = owner
    start = text.index(LINUX)
    response = await browser.get(
        f"/dashboard/documents/{doc_id}", params={"start": start, "end": start + len(LINUX)}
    )
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    html = response.text
    assert f'<mark id="cited" tabindex="-1">{LINUX}</mark>' in html
    assert html.count("<mark") == 1 and BAD_SPAN_NOTE not in html
    # page 3 of the file prints "1"; its heading path; pages divided with their labels
    assert 'id="cited-page">p. 1 <span class="muted">(page 3 of the file)</span>' in html
    assert (
        '<span class="viewer-cited-section" id="cited-section">Installation › Linux</span>' in html
    )
    assert "Page ii · 2 of the file" in html
    assert '<script type="module" src="/static/viewer.js"' in html


async def test_a_span_over_a_page_break_is_marked_on_both_pages(owner):
    _, browser, doc_id, text = owner
    start, end = text.index("Commands are shown"), text.index("The lantern clock runs") + 5
    html = (await browser.get(f"/dashboard/documents/{doc_id}?start={start}&end={end}")).text
    assert html.count("<mark") == 2 and html.count('id="cited"') == 1
    assert 'id="cited-page">p. ii' in html


@pytest.mark.parametrize(
    "query",
    [
        "start=-1&end=5",
        "start=9&end=3",
        "start=4&end=4",
        "start=0&end=999999",
        "start=a&end=b",
        "start=1.5&end=9",
        "start=&end=",
        "start=3",
        "start=" + "9" * 5000 + "&end=1",
    ],
)
async def test_bad_spans_show_the_document_unmarked_with_a_note(owner, query):
    _, browser, doc_id, _ = owner
    response = await browser.get(f"/dashboard/documents/{doc_id}?{query}")
    assert response.status_code == 200
    assert "<mark" not in response.text and BAD_SPAN_NOTE in response.text
    assert LINUX in response.text


async def test_without_a_span_there_is_no_note(owner):
    _, browser, doc_id, _ = owner
    html = (await browser.get(f"/dashboard/documents/{doc_id}")).text
    assert "<mark" not in html and BAD_SPAN_NOTE not in html and LINUX in html


async def test_another_users_or_an_unknown_document_is_the_404_page(app, owner):
    _, browser, doc_id, _ = owner
    async with client_for(app) as api:
        await make_user(api, "grace@example.com")
    other = await browser_login(app, "grace@example.com")
    for client, path in ((other, doc_id), (browser, "no-such-document")):
        response = await client.get(f"/dashboard/documents/{path}?start=0&end=5")
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")
        assert "This document doesn't exist" in response.text and LINUX not in response.text
    await other.aclose()
    async with client_for(app) as anonymous:
        response = await anonymous.get(f"/dashboard/documents/{doc_id}")
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


async def test_a_document_without_text_and_hostile_text(owner, tmp_path):
    user, browser, _, _ = owner
    (failed,) = [d["id"] for d in (await upload(user, fixture("encrypted.pdf")))["documents"]]
    await wait_done(user, failed)
    response = await browser.get(f"/dashboard/documents/{failed}?start=0&end=4")
    assert response.status_code == 200 and "its text is not available yet" in response.text
    hostile = tmp_path / "hostile.md"
    hostile.write_text("# Notes\n\nA <img src=x onerror=alert(1)> tag and </mark> text.\n")
    (doc_id,) = await ready_documents(user, hostile)
    html = (await browser.get(f"/dashboard/documents/{doc_id}?start=9&end=40")).text
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert html.count("</mark>") == 1


def test_pdf_layout_line_breaks_read_as_running_text_and_offsets_hold():
    text = "A lamp\nburned all night.\nThe keeper slept.\n\nNext page text."
    view = build_view(text, [], "0", str(text.index(".") + 1), reflow=True)
    (block,) = view.blocks
    assert [(r.text, r.marked) for r in block.runs] == [
        ("A lamp burned all night.", True),
        ("\nThe keeper slept.\n\nNext page text.", False),
    ]
    assert build_view(text, []).blocks[0].runs[0].text == text  # other formats: as extracted
