"""Two tabs editing the same draft: the second save meets a clear conflict, both ways out work."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE, screenshot
from tests.e2e.steps import MARKDOWN, generate, open_nav, register, saved, upload, wait_ready

pytestmark = pytest.mark.e2e


def test_two_tab_revision_conflict(page, browser_context, live):
    register(page, "tabs@example.com")
    open_nav(page, "Documents")
    upload(page, MARKDOWN)
    wait_ready(page, MARKDOWN)
    open_nav(page, "Generate")
    editor = generate(page, [MARKDOWN], "Tide pool animals on rocky shores")

    other = browser_context.new_page()
    other.goto(editor)
    expect(other.get_by_label("Markdown")).to_be_editable()
    expect(other.locator("#save-state")).to_have_text("All changes saved")

    # tab 1 saves first
    page.get_by_label("Markdown").fill("# From tab one\n\nThe first tab's text.\n")
    page.get_by_role("button", name="Save", exact=True).click()
    saved(page)

    # tab 2 still holds the old revision: its save is refused, clearly
    other.get_by_label("Markdown").fill("# From tab two\n\nThe second tab's text.\n")
    other.get_by_role("button", name="Save", exact=True).click()
    banner = other.get_by_role("alert").filter(has_text="changed somewhere else")
    expect(banner).to_be_visible()
    expect(other.locator("#save-state")).to_contain_text("conflict")
    expect(banner.get_by_role("button", name="Reload latest")).to_be_visible()
    screenshot(other, "19-editor-conflict", full_page=False)
    other.set_viewport_size(PHONE)
    screenshot(other, "19-editor-conflict", phone=True, full_page=False)
    # autosave does not hammer the server while in conflict
    other.wait_for_timeout(2500)
    expect(banner).to_be_visible()

    # overwrite with mine: tab 2's text wins
    banner.get_by_role("button", name="Overwrite with mine").click()
    saved(other)
    expect(banner).to_be_hidden()
    expect(other.locator("#preview")).to_contain_text("The second tab's text.")

    # tab 1 is now behind; it reloads the latest instead
    page.get_by_label("Markdown").fill("# From tab one again\n")
    page.get_by_role("button", name="Save", exact=True).click()
    banner_one = page.get_by_role("alert").filter(has_text="changed somewhere else")
    expect(banner_one).to_be_visible()
    banner_one.get_by_role("button", name="Reload latest").click()
    expect(banner_one).to_be_hidden()
    expect(page.get_by_label("Markdown")).to_have_value(
        "# From tab two\n\nThe second tab's text.\n"
    )

    # both edits are in the history
    page.reload()
    history = page.locator("#revisions .revision")
    expect(history).to_have_count(3)
    expect(history.first).to_contain_text("current")
    expect(page.locator("#revisions")).to_contain_text(re.compile("Edited"))
    assert not browser_context.watch.page_errors, browser_context.watch.page_errors

    # regenerate writes a fresh draft from the same session (the brief unchanged) and opens it
    page.get_by_role("button", name="Regenerate").click()
    page.get_by_role("dialog").get_by_role("button", name="Write a new draft").click()
    page.wait_for_url(
        lambda url: url.rstrip("/") != editor.rstrip("/") and "/dashboard/blogs/" in url
    )
    expect(page.get_by_label("Markdown")).to_be_editable(timeout=120_000)
    expect(page.get_by_label("Markdown")).to_have_value(re.compile(r"\[1\]"))
    open_nav(page, "Blogs")
    expect(page.locator(".blog-card")).to_have_count(2)
    screenshot(page, "13-blogs-two")
