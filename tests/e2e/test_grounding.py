"""The editor shows grounding (issue 9): after a save, an invented sentence is highlighted
in the preview and listed in the Check panel with its reason; picking it selects it in
the Markdown."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot
from tests.e2e.steps import MARKDOWN, generate, open_nav, register, saved, upload, wait_ready

pytestmark = pytest.mark.e2e

INVENTED = "Tide pools were first mapped by satellites in 1987 [99]."


def test_flagged_sentence_is_highlighted_after_a_save(page, browser_context, live):
    register(page, "check@example.com")
    open_nav(page, "Documents")
    upload(page, MARKDOWN)
    wait_ready(page, MARKDOWN)
    open_nav(page, "Generate")
    generate(page, [MARKDOWN], "Tide pool animals on rocky shores")
    panel = page.locator("#check-panel")
    expect(panel).to_contain_text("each is supported by the source it cites")
    expect(page.locator("#preview mark.flagged")).to_have_count(0)

    box = page.get_by_label("Markdown")
    markdown = box.input_value()
    title, rest = markdown.split("\n\n", 1)
    box.fill(f"{title}\n\n{INVENTED}\n\n{rest}")
    page.get_by_role("button", name="Save", exact=True).click()
    saved(page)

    mark = page.locator("#preview mark.flagged")
    expect(mark).to_have_count(1)
    expect(mark).to_have_text(INVENTED)
    expect(mark).to_have_attribute("title", "Cites [99], which is not one of the sources")
    item = panel.get_by_role("button").filter(has_text="1987")
    expect(item).to_contain_text("which is not one of the sources")
    expect(panel.get_by_role("heading")).to_have_text("Check 1 sentence")
    screenshot(page, "21-editor-check", full_page=False)

    item.click()
    selected = page.evaluate(
        "() => { const t = document.getElementById('markdown');"
        " return t.value.slice(t.selectionStart, t.selectionEnd); }"
    )
    assert selected == INVENTED
    # the highlight is there on load too
    page.reload()
    expect(page.locator("#preview mark.flagged")).to_have_text(INVENTED)
    assert not browser_context.watch.page_errors, browser_context.watch.page_errors
