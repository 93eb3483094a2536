"""The whole journey in Chromium: register, upload, generate, edit, export, sign out."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DESKTOP, PHONE, assert_no_sideways_scroll, screenshot
from tests.e2e.steps import (
    DOCX,
    PDF,
    PDF_ONLY_WORD,
    generate,
    open_nav,
    register,
    row,
    saved,
    upload,
    wait_ready,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(params=["default-ttl", "ttl-3s"])
def settings_overrides(request):
    return {"access_token_ttl_s": 3} if request.param == "ttl-3s" else {}


def test_journey(page, browser_context, live, settings_overrides):
    short_ttl = bool(settings_overrides)
    cross_expiry = (lambda: page.wait_for_timeout(3_500)) if short_ttl else (lambda: None)
    shots = not short_ttl

    register(page)
    if shots:
        screenshot(page, "02-dashboard-empty")
    cross_expiry()

    open_nav(page, "Documents")
    expect(page.get_by_text("No documents yet — upload some")).to_be_visible()
    if shots:
        screenshot(page, "03-documents-empty")
    upload(page, PDF, DOCX)
    expect(page.locator(".doc-row")).to_have_count(2)
    if shots:
        screenshot(page, "04-documents-processing")
    wait_ready(page, PDF, DOCX)
    expect(page.locator("#live-note")).to_be_hidden()
    if shots:
        screenshot(page, "05-documents-ready")
    cross_expiry()

    # search narrows the list (the server's ?q=) and view the extracted text
    page.get_by_label("Search documents").fill(PDF_ONLY_WORD)
    expect(page.locator(".doc-row")).to_have_count(1)
    expect(row(page, PDF.name)).to_be_visible()
    page.get_by_label("Search documents").fill("")
    expect(page.locator(".doc-row")).to_have_count(2)
    page.get_by_role("button", name=f"View text of {PDF.name}").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator(".doc-text")).not_to_have_attribute("aria-busy", "true")
    expect(dialog.locator(".doc-text")).not_to_be_empty()
    if shots:
        screenshot(page, "06-documents-text", full_page=False)
    dialog.get_by_role("button", name="Close", exact=True).click()
    expect(dialog).to_be_hidden()

    open_nav(page, "Generate")
    if shots:
        screenshot(page, "07-generate")
    cross_expiry()
    editor_url = generate(
        page,
        [PDF, DOCX],
        "Lighthouse keepers and tide pool animals",
        shot="07-generate-progress" if shots else None,
    )
    if shots:
        screenshot(page, "08-editor")

    # the editor shows a cited draft
    markdown = page.get_by_label("Markdown")
    expect(markdown).to_have_value(re.compile(r"\[1\]"))
    refs = page.locator("#preview .cite-link")
    expect(refs.first).to_be_visible()
    expect(page.locator("#citations .citation").first).to_be_visible()
    first_doc = page.locator("#citations .citation-doc").first.inner_text()
    assert first_doc in (PDF.name, DOCX.name)
    refs.first.click()
    expect(page.locator("#citations .citation.flash")).to_have_count(1)

    # edit, save, reload: the edit is there
    cross_expiry()
    original = markdown.input_value()
    edited = original.rstrip() + "\n\nEdited in the browser by the journey test.\n"
    markdown.fill(edited)
    page.get_by_label("Title").fill("A journey through my sources")
    expect(page.locator("#save-state")).to_have_text("Unsaved changes")
    page.get_by_role("button", name="Save", exact=True).click()
    saved(page)
    expect(page.locator("#preview")).to_contain_text("Edited in the browser by the journey test.")
    cross_expiry()
    page.reload()
    expect(page.get_by_label("Markdown")).to_have_value(edited)
    expect(page.get_by_label("Title")).to_have_value("A journey through my sources")

    # autosave: type and wait, without pressing Save
    page.get_by_label("Markdown").press("End")
    page.get_by_label("Markdown").type(" Autosaved.")
    expect(page.locator("#save-state")).to_have_text("Unsaved changes")
    saved(page)
    page.reload()
    expect(page.get_by_label("Markdown")).to_have_value(re.compile(r"Autosaved\.\s*$"))

    # export downloads a file
    for label, suffix in (("Markdown", ".md"), ("DOCX", ".docx")):
        with page.expect_download() as download_info:
            page.get_by_role("group", name="Export").get_by_role(
                "link", name=label, exact=True
            ).click()
        download = download_info.value
        assert download.suggested_filename.endswith(suffix)
        assert download.path().stat().st_size > 0

    # history: view the first revision and restore it
    expect(page.locator("#revisions .revision").first).to_be_visible()
    if shots:
        screenshot(page, "09-editor-edited")
    oldest = page.locator("#revisions .revision").last
    oldest.get_by_role("button").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_role("button", name="Restore")).to_be_enabled()
    dialog.get_by_role("button", name="Restore").click()
    expect(dialog).to_be_hidden()
    saved(page)
    expect(page.get_by_label("Markdown")).to_have_value(original)

    if shots:
        capture_every_page(page, editor_url)

    # the lists show what was made
    open_nav(page, "Blogs")
    expect(page.locator(".blog-card")).to_have_count(1)
    open_nav(page, "Dashboard")
    expect(page.locator("#dash-documents .mini-item")).to_have_count(2)
    expect(page.locator("#dash-blogs .mini-item")).to_have_count(1)
    expect(page.locator("#dash-sessions .mini-item")).to_have_count(1)
    cross_expiry()

    # sign out: the dashboard asks to sign in
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login\?signed_out=1$"))
    expect(page.get_by_role("status").filter(has_text="You have signed out.")).to_be_visible()
    page.goto("/dashboard")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fdashboard$"))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_text("Sign in to continue.")).to_be_visible()

    browser_context.watch.assert_clean()


def capture_every_page(page, editor_url: str) -> None:
    """Every page at desktop and phone widths, light and dark."""
    pages = [
        ("10-dashboard", "/dashboard"),
        ("11-documents", "/dashboard/documents"),
        ("12-generate", "/dashboard/generate"),
        ("13-blogs", "/dashboard/blogs"),
        ("14-editor", editor_url),
        ("15-account", "/dashboard/account"),
    ]
    for theme in ("light", "dark"):
        page.emulate_media(color_scheme=theme)
        for viewport, phone in ((DESKTOP, False), (PHONE, True)):
            page.set_viewport_size(viewport)
            for name, path in pages:
                page.goto(path)
                page.wait_for_load_state("networkidle")
                page.wait_for_function("!document.querySelector('[aria-busy=true]')")
                screenshot(page, f"{name}-{theme}", phone=phone)
                if phone:
                    assert_no_sideways_scroll(page)
    page.emulate_media(color_scheme="light")
    page.set_viewport_size(DESKTOP)
