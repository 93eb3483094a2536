"""The author in the loop, in the browser: the outline editor after "Plan first" (by
keyboard, by drag, kept when you come back) and rewriting one section in the editor."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DESKTOP, PHONE, assert_no_sideways_scroll, screenshot
from tests.e2e.steps import (
    GENERATION_TIMEOUT_MS,
    MARKDOWN,
    fixture_path,
    generate,
    open_nav,
    register,
    saved,
    upload,
    wait_ready,
)

pytestmark = pytest.mark.e2e

LIGHTHOUSES = fixture_path("lighthouses.md")
TOPIC = "tide pool animals and lighthouse keepers"
#: where the screenshots a person looks at are kept too (besides test-artifacts)
SHOTS = Path(os.environ.get("DRAFTSMITH_SHOTS", "test-artifacts/screenshots/author"))


def shot(page, name: str, **kwargs) -> None:
    screenshot(page, name, **kwargs)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=kwargs.get("full_page", True))


def headings(page) -> list[str]:
    return page.locator("#outline-list .outline-heading").evaluate_all(
        "inputs => inputs.map(i => i.value)"
    )


def focused_heading(page) -> str:
    return page.evaluate(
        "document.activeElement.closest('.outline-item')"
        "?.querySelector('.outline-heading').value ?? null"
    )


def plan_first(page) -> None:
    register(page, "author@example.com")
    open_nav(page, "Documents")
    upload(page, MARKDOWN, LIGHTHOUSES)
    wait_ready(page, MARKDOWN, LIGHTHOUSES)
    open_nav(page, "Generate")
    for f in (MARKDOWN, LIGHTHOUSES):
        page.get_by_label(f.name).check()
    page.get_by_label("Topic").fill(TOPIC)
    page.get_by_label("Length").select_option("short")
    page.get_by_role("button", name="Plan first").click()
    expect(page.get_by_role("heading", name="Review the outline")).to_be_visible(
        timeout=GENERATION_TIMEOUT_MS
    )
    expect(page).to_have_url(re.compile(r"/dashboard/generate\?blog="))


def test_the_outline_editor_works_by_keyboard(page, browser_context, live):
    plan_first(page)
    proposed = headings(page)
    assert len(proposed) >= 2
    expect(page.locator("#outline-save-state")).to_have_text("Outline saved")

    # move the first section down with Alt+ArrowDown: focus stays on it
    first = page.locator("#outline-list .outline-heading").first
    first.focus()
    page.keyboard.press("Alt+ArrowDown")
    assert headings(page)[:2] == [proposed[1], proposed[0]]
    assert focused_heading(page) == proposed[0]
    expect(page.locator("#outline-live")).to_contain_text("moved to position 2")
    page.keyboard.press("Alt+ArrowUp")
    page.keyboard.press("Alt+ArrowDown")  # back down: [1, 0, ...]

    # rename it by typing
    page.keyboard.press("Control+A")
    page.keyboard.type("Animals of the pools")
    # its points: Tab into the textarea
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_attribute(
        "aria-label", "Points of section 2 (one per line)"
    )
    page.keyboard.press("Control+A")
    page.keyboard.type("sea stars\nlimpets")

    # add a section with the keyboard: the new heading gets the focus
    page.get_by_role("button", name="Add a section").focus()
    page.keyboard.press("Enter")
    page.keyboard.type("Lamps, lenses and fog signals")
    page.keyboard.press("Tab")
    page.keyboard.type("Fresnel lens")
    # and move it to the top with the buttons (Enter on "Move … up")
    count = len(headings(page))
    for _ in range(count - 1):
        page.get_by_role("button", name="Move “Lamps, lenses and fog signals” up").press("Enter")
    assert headings(page)[0] == "Lamps, lenses and fog signals"
    expect(
        page.get_by_role("button", name="Move “Lamps, lenses and fog signals” up")
    ).to_be_disabled()

    # delete a section by keyboard (the last one, if there are more than three)
    if len(headings(page)) > 3:
        last = headings(page)[-1]
        page.get_by_role("button", name=f"Delete “{last}”").press("Enter")
        assert last not in headings(page)
    edited = headings(page)
    assert edited[:3] == ["Lamps, lenses and fog signals", proposed[1], "Animals of the pools"]
    expect(page.locator("#outline-save-state")).to_have_text("Outline saved", timeout=10_000)
    page.get_by_label("Title").first.focus()  # the review's own title field
    shot(page, "outline-editor")
    page.set_viewport_size(PHONE)
    assert_no_sideways_scroll(page)
    shot(page, "outline-editor-phone", phone=True)
    page.set_viewport_size(DESKTOP)

    # leaving and coming back shows the stored outline
    page.goto("/dashboard/documents")
    page.go_back()
    expect(page.get_by_role("heading", name="Review the outline")).to_be_visible()
    assert headings(page) == edited
    assert (
        page.locator("#outline-list .outline-points").nth(2).input_value() == "sea stars\nlimpets"
    )
    # each points box is as tall as its points: none hides behind a scroll bar
    for box in page.locator("#outline-list .outline-points").all():
        lines = box.input_value().count("\n") + 1
        assert box.evaluate("b => b.rows") == min(8, max(2, lines))
        assert box.evaluate("b => b.scrollHeight <= b.clientHeight + 2")

    # a blank heading is refused, clearly
    page.get_by_role("button", name="Add a section").click()
    page.get_by_role("button", name="Write the post").click()
    expect(page.locator("#outline-error")).to_contain_text("Every section needs a heading")
    page.get_by_role("button", name=f"Delete “section {len(edited) + 1}”").click()

    # written with exactly those headings, in that order
    page.get_by_role("button", name="Write the post").click()
    page.wait_for_url(re.compile(r"/dashboard/blogs/[^/]+$"), timeout=GENERATION_TIMEOUT_MS)
    expect(page.get_by_label("Markdown")).to_be_editable(timeout=GENERATION_TIMEOUT_MS)
    markdown = page.get_by_label("Markdown").input_value()
    written = re.findall(r"(?m)^## (.+)$", markdown)
    assert written == [*edited, "Conclusion", "Sources"]
    browser_context.watch.assert_clean()


def test_the_outline_can_be_reordered_by_dragging(page, browser_context, live):
    plan_first(page)
    before = headings(page)
    handles = page.locator("#outline-list .outline-handle")
    handles.last.drag_to(
        page.locator("#outline-list .outline-item").first, target_position={"x": 40, "y": 5}
    )
    after = headings(page)
    assert after[0] == before[-1] and sorted(after) == sorted(before)
    expect(page.locator("#outline-save-state")).to_have_text("Outline saved", timeout=10_000)
    page.reload()
    expect(page.get_by_role("heading", name="Review the outline")).to_be_visible()
    assert headings(page) == after
    browser_context.watch.assert_clean()


def test_rewriting_one_section_in_the_editor(page, browser_context, live):
    register(page, "rewrite@example.com")
    open_nav(page, "Documents")
    upload(page, MARKDOWN, LIGHTHOUSES)
    wait_ready(page, MARKDOWN, LIGHTHOUSES)
    open_nav(page, "Generate")
    generate(page, [MARKDOWN, LIGHTHOUSES], TOPIC)
    original = page.get_by_label("Markdown").input_value()
    sections = re.findall(r"(?m)^## (.+)$", original)
    target = sections[1]

    rewrite = page.get_by_role("button", name=f"Rewrite section “{target}”")
    expect(rewrite).to_be_enabled()
    rewrite.click()
    dialog = page.get_by_role("dialog", name=f"Rewrite “{target}”")
    dialog.get_by_label("Instructions").fill("more about the animals")
    shot(page, "rewrite-dialog", full_page=False)
    # the event stream held back a moment: the progress line shows, with its Cancel button
    page.route(
        "**/events?*",
        lambda route: route.fulfill(
            status=200, content_type="text/event-stream", body="retry: 2500\n\n"
        ),
    )
    dialog.get_by_role("button", name="Rewrite", exact=True).click()
    progress = page.locator("#preview .rewrite-progress")
    expect(progress.first).to_contain_text(f"Rewriting “{target}”")
    expect(page.get_by_role("button", name=f"Cancel the rewrite of “{target}”")).to_be_visible()
    expect(page.get_by_label("Markdown")).to_be_disabled()
    progress.first.scroll_into_view_if_needed()
    shot(page, "rewrite-progress", full_page=False)
    page.unroute("**/events?*")
    expect(page.locator("#preview .rewrite-done")).to_contain_text(
        f"“{target}” was rewritten (revision 2)", timeout=GENERATION_TIMEOUT_MS
    )
    saved(page)
    page.locator("#preview .rewrite-done").scroll_into_view_if_needed()
    shot(page, "rewrite-done", full_page=False)

    rewritten = page.get_by_label("Markdown").input_value()
    assert rewritten != original
    # only that section's text changed: the text before its heading and from the next
    # heading up to the Sources list are the same
    start = original.index(f"## {target}\n")
    end = original.index(f"\n## {sections[2]}\n")
    assert rewritten.startswith(original[:start] + f"## {target}\n")
    assert original[end : original.index("\n## Sources")] in rewritten
    history = page.locator("#revisions")
    expect(history).to_contain_text("Rewrote a section")
    expect(page.locator("#editor-meta")).to_contain_text("Revision 2")

    # undone: the text of revision 1 again, as revision 3
    page.get_by_role("button", name=f"Undo the rewrite of “{target}”").click()
    saved(page)
    expect(page.locator("#editor-meta")).to_contain_text("Revision 3")
    assert page.get_by_label("Markdown").input_value() == original
    browser_context.watch.assert_clean()
