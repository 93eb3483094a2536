"""A citation is checkable in one click: the source card opens the viewer on the marked quote."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE, SCREENSHOTS, assert_no_sideways_scroll
from tests.e2e.steps import PDF, generate, open_nav, register, upload, wait_ready

pytestmark = pytest.mark.e2e


def _words(text: str) -> str:
    return " ".join(text.split())


def test_a_source_card_opens_the_viewer_on_the_marked_quote(page, browser_context, live):
    register(page, "viewer@example.com")
    open_nav(page, "Documents")
    upload(page, PDF)
    wait_ready(page, PDF)
    open_nav(page, "Generate")
    editor = generate(page, [PDF], "Tide pool animals on rocky shores")
    blog = page.request.get("/api/v1/blogs/" + editor.rsplit("/", 1)[1]).json()

    # the card of the citation deepest into the document: the viewer must scroll to it
    cited = max(blog["citations"], key=lambda c: c["start"])
    card = page.locator(f"#citation-{cited['n']}")
    expect(card.locator(".citation-quote")).to_have_text(_words(cited["quote"]))
    expect(card.locator(".citation-where")).to_contain_text(f"p. {cited['page_label']}")
    link = card.get_by_role("link", name=re.compile("Open"))
    expect(link).to_have_attribute(
        "href",
        f"/dashboard/documents/{cited['document_id']}?start={cited['start']}&end={cited['end']}",
    )
    card.scroll_into_view_if_needed()
    card.screenshot(path=str(screenshot_path("20-editor-source-card")))

    with browser_context.expect_page() as opened:
        link.click()
    viewer = opened.value
    viewer.wait_for_load_state()
    assert parse_qs(urlsplit(viewer.url).query)["start"] == [str(cited["start"])]
    mark = viewer.locator("mark#cited")
    expect(mark).to_be_visible()
    assert _words(mark.inner_text()) == _words(cited["quote"])
    expect(mark).to_be_in_viewport()
    # it took a scroll: the mark lies below the first screen of the page
    assert viewer.evaluate("window.scrollY") > 0
    expect(viewer.locator("#cited-page")).to_have_text(f"p. {cited['page_label']}")
    expect(
        viewer.get_by_role("navigation", name="Main").get_by_role("link", name="Documents")
    ).to_have_attribute("aria-current", "page")
    viewer.screenshot(path=str(screenshot_path("21-document-viewer")))
    viewer.emulate_media(color_scheme="dark")
    viewer.reload()
    expect(mark).to_be_in_viewport()
    viewer.screenshot(path=str(screenshot_path("21-document-viewer-dark")))
    viewer.emulate_media(color_scheme="light")
    viewer.evaluate("window.scrollTo(0, 0)")
    viewer.screenshot(path=str(screenshot_path("21-document-viewer-top")))
    viewer.set_viewport_size(PHONE)
    assert_no_sideways_scroll(viewer)
    mark.scroll_into_view_if_needed()
    viewer.screenshot(
        path=str(screenshot_path("21-document-viewer").with_stem("21-document-viewer-phone"))
    )

    # a damaged link: the text without a mark, and a gentle note
    viewer.goto(f"/dashboard/documents/{cited['document_id']}?start=-4&end=oops")
    expect(viewer.locator("#viewer-note")).to_be_visible()
    expect(viewer.locator("mark")).to_have_count(0)
    browser_context.watch.assert_clean()


def screenshot_path(name: str):
    """A viewport or element screenshot, beside the full-page ones."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS / f"{name}-desktop.png"
