"""Issue 11 in Chromium: Regenerate opens the brief prefilled and a changed brief makes a new
blog of the same session; the blogs list shows each draft's excerpt, words, sources and
brief, with search and sort; the HTML 404 page; the signed-out notice; same-name documents
told apart in the picker; no Reprocess where it cannot help."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DESKTOP, PHONE, assert_no_sideways_scroll, screenshot
from tests.e2e.steps import (
    GENERATION_TIMEOUT_MS,
    MARKDOWN,
    generate,
    open_nav,
    register,
    row,
    wait_ready,
)
from tests.e2e.steps import upload as upload_files
from tests.fixtures.make import fixture_path

pytestmark = pytest.mark.e2e

LIGHT = fixture_path("lighthouses.md")
SHOTS = Path("/tmp/shots/finding")


def shot(page, name: str, full_page: bool = True, phone: bool = False) -> None:
    """The usual artifact, and a copy where the issue's reviewer looks."""
    path = screenshot(page, name, full_page=full_page, phone=phone)
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / path.name).write_bytes(path.read_bytes())


def titles(page) -> list[str]:
    return page.locator(".blog-card-title").all_inner_texts()


def test_a_changed_brief_makes_a_new_draft_listed_with_its_brief(page, browser_context, live):
    register(page, "brief@example.com")
    open_nav(page, "Documents")
    upload_files(page, MARKDOWN, LIGHT)
    wait_ready(page, MARKDOWN, LIGHT)
    open_nav(page, "Generate")
    first = generate(page, [MARKDOWN], "Tide pool animals on rocky shores")

    page.get_by_role("button", name="Regenerate").click()
    dialog = page.get_by_role("dialog", name="Regenerate with this brief")
    expect(dialog.get_by_label("Topic")).to_have_value("Tide pool animals on rocky shores")
    expect(dialog.get_by_label("Topic")).to_be_focused()
    expect(dialog.get_by_label(MARKDOWN.name)).to_be_checked()
    expect(dialog.get_by_label(LIGHT.name)).not_to_be_checked()
    expect(dialog.get_by_label("Audience")).to_have_value("Engineers")
    expect(dialog.get_by_label("Tone")).to_have_value("Friendly")
    expect(dialog.get_by_label("Length")).to_have_value("short")
    expect(dialog.get_by_label("Language")).to_have_value("English")
    expect(dialog.get_by_label("Engine")).to_have_value("extractive")
    expect(dialog.get_by_label("Title")).to_have_value("")
    expect(dialog.get_by_label("Instructions")).to_have_value("")
    shot(page, "finding-brief-dialog", full_page=False)
    page.set_viewport_size(PHONE)
    shot(page, "finding-brief-dialog", full_page=False, phone=True)
    page.set_viewport_size(DESKTOP)

    # a brief the server refuses: the reason shows in the dialog, nothing is generated
    dialog.get_by_label("Language").fill("French")
    dialog.get_by_role("button", name="Write a new draft").click()
    expect(dialog.get_by_role("alert")).to_contain_text("cannot translate")
    expect(page).to_have_url(first)

    dialog.get_by_label("Language").fill("")
    dialog.get_by_label("Topic").fill("Lighthouse keepers and their lamps")
    dialog.get_by_label(MARKDOWN.name).uncheck()
    dialog.get_by_label(LIGHT.name).check()
    dialog.get_by_label("Audience").fill("Students")
    dialog.get_by_role("button", name="Write a new draft").click()
    page.wait_for_url(lambda url: url != first and "/dashboard/blogs/" in url)
    expect(page.get_by_label("Markdown")).to_be_editable(timeout=GENERATION_TIMEOUT_MS)
    second = page.url

    # the new draft's dialog holds its own brief; the first draft's still holds the old one
    page.get_by_role("button", name="Regenerate").click()
    dialog = page.get_by_role("dialog", name="Regenerate with this brief")
    expect(dialog.get_by_label("Topic")).to_have_value("Lighthouse keepers and their lamps")
    expect(dialog.get_by_label(LIGHT.name)).to_be_checked()
    dialog.get_by_role("button", name="Close", exact=True).click()
    page.goto(first)
    page.get_by_role("button", name="Regenerate").click()
    dialog = page.get_by_role("dialog", name="Regenerate with this brief")
    expect(dialog.get_by_label("Topic")).to_have_value("Tide pool animals on rocky shores")
    expect(dialog.get_by_label("Audience")).to_have_value("Engineers")
    dialog.get_by_role("button", name="Close", exact=True).click()

    open_nav(page, "Blogs")
    cards = page.locator(".blog-card")
    expect(cards).to_have_count(2)
    lamp = cards.filter(has=page.locator(f"a[href='{second.replace(live.url, '')}']"))
    tide = cards.filter(has=page.locator(f"a[href='{first.replace(live.url, '')}']"))
    expect(lamp.locator(".blog-card-brief")).to_contain_text("for Students")
    expect(lamp.locator(".blog-card-sources")).to_contain_text(LIGHT.name)
    expect(tide.locator(".blog-card-brief")).to_contain_text("for Engineers · Friendly · short")
    expect(tide.locator(".blog-card-sources")).to_contain_text(MARKDOWN.name)
    for card in (lamp, tide):
        expect(card.locator(".blog-card-excerpt")).not_to_be_empty()
        expect(card.locator(".blog-card-facts")).to_contain_text(re.compile(r"\d+ words"))
    shot(page, "finding-blogs-list")
    page.set_viewport_size(PHONE)
    assert_no_sideways_scroll(page)
    shot(page, "finding-blogs-list", phone=True)
    page.set_viewport_size(DESKTOP)
    page.emulate_media(color_scheme="dark")
    shot(page, "finding-blogs-list-dark")
    page.emulate_media(color_scheme="light")

    # sort: newest first by default, then by title; the choice stays in the address
    expect(page.locator(".blog-card").first).to_have_attribute("data-id", second.rsplit("/", 1)[1])
    page.get_by_label("Sort").select_option("oldest")
    expect(page.locator(".blog-card").first).to_have_attribute("data-id", first.rsplit("/", 1)[1])
    by_title = sorted(titles(page), key=str.lower)
    page.get_by_label("Sort").select_option("title")
    expect(page).to_have_url(re.compile(r"\?sort=title$"))
    expect(page.locator(".blog-card-title")).to_have_text(by_title)  # waits for the new order

    # search: titles, text and briefs; none found says so
    page.get_by_label("Search blogs").fill("students")
    expect(page.locator(".blog-card")).to_have_count(1)
    expect(page.locator(".blog-card")).to_have_attribute("data-id", second.rsplit("/", 1)[1])
    expect(page).to_have_url(re.compile(r"\?q=students&sort=title$"))
    page.reload()
    expect(page.get_by_label("Search blogs")).to_have_value("students")
    expect(page.locator(".blog-card")).to_have_count(1)
    page.get_by_label("Search blogs").fill("zebra crossings")
    expect(page.locator("#blog-nomatch")).to_be_visible()
    expect(page.locator(".blog-card")).to_have_count(0)
    watch = browser_context.watch
    refused = [e for e in watch.console_errors if "status of 422" in e]  # the French brief
    assert len(refused) == 1, watch.console_errors
    watch.console_errors.remove(refused[0])
    watch.assert_clean()


def test_the_404_page_and_the_signed_out_notice(page, live):
    response = page.goto("/no/such/page")
    assert response.status == 404 and "text/html" in response.headers["content-type"]
    expect(page.get_by_role("heading", name="This page doesn't exist")).to_be_visible()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()

    register(page, "lost@example.com")
    page.goto("/dashboard/nothing-here")
    expect(page.get_by_role("heading", name="This page doesn't exist")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    expect(page.locator(".not-found-path")).to_have_text("/dashboard/nothing-here")
    shot(page, "finding-404")
    page.get_by_role("link", name="Back to the dashboard").click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))

    api = page.goto("/api/v1/no-such-endpoint")
    assert api.status == 404 and api.json() == {"detail": "No such endpoint.", "code": "not_found"}

    page.goto("/dashboard")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login\?signed_out=1$"))
    expect(page.get_by_role("status").filter(has_text="You have signed out.")).to_be_visible()
    shot(page, "finding-signed-out", full_page=False)


def test_same_name_uploads_and_reprocess_only_where_it_helps(page, browser_context, live):
    register(page, "names@example.com")
    open_nav(page, "Documents")
    notes = [
        {"name": "notes.md", "mimeType": "text/markdown", "buffer": text.encode()}
        for text in (
            "# Tide notes\n\nAnemones close when the tide leaves the pool.\n",
            "# Tide notes\n\nHermit crabs trade shells at low tide.\n",
        )
    ]
    page.locator("#file-input").set_input_files(notes[:1])
    expect(page.locator(".doc-row")).to_have_count(1)
    page.wait_for_timeout(1_100)  # a later upload of the same name, as people do
    page.locator("#file-input").set_input_files(notes[1:])
    upload_files(page, fixture_path("encrypted.pdf"), fixture_path("truncated.pdf"))
    expect(page.locator(".doc-row")).to_have_count(4)
    for name in ("encrypted.pdf", "truncated.pdf"):
        expect(row(page, name)).to_have_attribute("data-status", "failed", timeout=120_000)
    expect(
        row(page, "encrypted.pdf").get_by_role("button", name=re.compile("Reprocess"))
    ).to_have_count(0)
    expect(row(page, "encrypted.pdf")).to_contain_text("password")
    expect(
        row(page, "truncated.pdf").get_by_role("button", name=re.compile("Reprocess"))
    ).to_be_visible()
    for note in row(page, "notes.md").all():
        expect(note).to_have_attribute("data-status", "ready", timeout=120_000)

    open_nav(page, "Generate")
    choices = page.locator("#doc-choices .check-row", has_text="notes.md")
    expect(choices).to_have_count(2)
    dates = choices.locator(".check-date").all_inner_texts()
    assert len(set(dates)) == 2 and all(d.startswith("uploaded ") for d in dates), dates
    expect(page.get_by_label(re.compile(r"notes\.md, uploaded"))).to_have_count(2)
    shot(page, "finding-picker-duplicates", full_page=False)
    browser_context.watch.assert_clean()
