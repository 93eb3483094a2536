"""The documents page in Chromium: bad files, failures with their reason, search, delete."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE, assert_no_sideways_scroll, screenshot
from tests.e2e.steps import MARKDOWN, open_nav, register, row, upload, wait_ready
from tests.fixtures.make import fixture_path

pytestmark = pytest.mark.e2e

ENCRYPTED = fixture_path("encrypted.pdf")


def test_bad_uploads_show_their_error(page, live, tmp_path):
    register(page, "bad@example.com")
    open_nav(page, "Documents")
    junk = tmp_path / "holiday-photos.pdf"
    junk.write_bytes(bytes(range(256)) * 40)
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    upload(page, junk, empty, MARKDOWN)

    junk_row = page.locator(".upload-row", has_text=junk.name)
    expect(junk_row.get_by_role("alert")).to_contain_text(junk.name)
    expect(junk_row).to_have_class(re.compile("upload-failed"))
    empty_row = page.locator(".upload-row", has_text=empty.name)
    expect(empty_row.get_by_role("alert")).to_contain_text("empty")
    # the good file in the same batch is unaffected
    wait_ready(page, MARKDOWN)
    screenshot(page, "16-documents-bad-upload")
    page.set_viewport_size(PHONE)
    screenshot(page, "16-documents-bad-upload", phone=True)
    assert_no_sideways_scroll(page)
    junk_row.get_by_role("button", name=f"Dismiss {junk.name}").click()
    expect(junk_row).to_have_count(0)


def test_a_file_that_fails_processing_shows_the_reason_and_can_be_deleted(page, live):
    register(page, "failing@example.com")
    open_nav(page, "Documents")
    upload(page, ENCRYPTED, MARKDOWN)
    failed = row(page, ENCRYPTED.name)
    expect(failed).to_have_attribute("data-status", "failed", timeout=120_000)
    expect(failed.locator(".doc-failure")).to_contain_text("Failed:")
    expect(failed.locator(".doc-failure")).not_to_have_text("Failed: ")
    wait_ready(page, MARKDOWN)
    screenshot(page, "17-documents-failed")

    # search uses the server's ?q= and keeps it in the address
    page.get_by_label("Search documents").fill("zzzznotaword")
    expect(page.get_by_text("No documents match your search")).to_be_visible()
    assert "q=zzzznotaword" in page.url
    page.get_by_label("Search documents").fill("")
    expect(page.locator(".doc-row")).to_have_count(2)

    # reprocessing cannot open an encrypted file: not offered; a ready one goes back through
    # the queue and ends the same way
    expect(failed.get_by_role("button", name=f"Reprocess {ENCRYPTED.name}")).to_have_count(0)
    page.get_by_role("button", name=f"Reprocess {MARKDOWN.name}").click()
    wait_ready(page, MARKDOWN)

    # delete asks first; Cancel keeps the file
    failed.get_by_role("button", name=f"Delete {ENCRYPTED.name}").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(ENCRYPTED.name)
    screenshot(page, "18-documents-delete-dialog", full_page=False)
    dialog.get_by_role("button", name="Cancel").click()
    expect(row(page, ENCRYPTED.name)).to_have_count(1)
    row(page, ENCRYPTED.name).get_by_role("button", name=f"Delete {ENCRYPTED.name}").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(row(page, ENCRYPTED.name)).to_have_count(0)
    page.reload()
    expect(page.locator(".doc-row")).to_have_count(1)


def test_drag_and_drop_uploads(page, live):
    register(page, "drop@example.com")
    open_nav(page, "Documents")
    page.evaluate("""() => {
        const transfer = new DataTransfer();
        const notes = "# Dropped notes\\n\\n"
            + "A short note about lighthouses and the keepers who ran them.";
        const tides = "Plain text about tides, written for the drop test.";
        transfer.items.add(new File([notes], "dropped-notes.md", { type: "text/markdown" }));
        transfer.items.add(new File([tides], "tides.txt", { type: "text/plain" }));
        const zone = document.getElementById("dropzone");
        const drag = { dataTransfer: transfer, bubbles: true };
        zone.dispatchEvent(new DragEvent("dragenter", drag));
        zone.dispatchEvent(new DragEvent("dragover", { ...drag, cancelable: true }));
        zone.dispatchEvent(new DragEvent("drop", { ...drag, cancelable: true }));
    }""")
    for name in ("dropped-notes.md", "tides.txt"):
        expect(row(page, name)).to_have_attribute("data-status", "ready", timeout=60_000)
    expect(page.locator("#dropzone")).not_to_have_class(re.compile("dragover"))


def test_a_file_already_in_the_library_says_so(page, live, tmp_path):
    register(page, "twice@example.com")
    open_nav(page, "Documents")
    upload(page, MARKDOWN)
    wait_ready(page, MARKDOWN)
    copy = tmp_path / "tide-pools-copy.md"
    copy.write_bytes(MARKDOWN.read_bytes())
    upload(page, copy)
    copy_row = page.locator(".upload-row", has_text=copy.name)
    expect(copy_row).to_contain_text("already in your library")
    expect(copy_row).to_contain_text(MARKDOWN.name)
    expect(page.locator(".doc-row")).to_have_count(1)
