"""Steps a person takes in the browser, shared by the e2e tests."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.conftest import PASSWORD
from tests.fixtures.make import PDF_ONLY_WORD, fixture_path  # noqa: F401  (PDF_ONLY_WORD: for the tests)

PDF = fixture_path("report.pdf")
DOCX = fixture_path("lighthouses.docx")
MARKDOWN = fixture_path("tide-pools.md")
PROCESSING_TIMEOUT_MS = 180_000
GENERATION_TIMEOUT_MS = 180_000


def register(page: Page, email: str = "journey@example.com", name: str = "Jo Journey") -> None:
    page.goto("/register")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Welcome, {name}")


def sign_in(page: Page, email: str = "journey@example.com") -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/dashboard"))


def open_nav(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True).click()
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True)
    ).to_have_attribute("aria-current", "page")


def upload(page: Page, *files: Path) -> None:
    page.locator("#file-input").set_input_files([str(f) for f in files])


def row(page: Page, filename: str):
    return page.locator(".doc-row", has=page.locator(".doc-name", has_text=filename))


def wait_ready(page: Page, *files: Path) -> None:
    for f in files:
        expect(row(page, f.name)).to_have_attribute(
            "data-status", "ready", timeout=PROCESSING_TIMEOUT_MS
        )


def generate(page: Page, files: list[Path], topic: str, shot: str | None = None) -> str:
    """From /dashboard/generate: returns the editor's URL once the draft is written."""
    for f in files:
        page.get_by_label(f.name).check()
    page.get_by_label("Topic").fill(topic)
    page.get_by_label("Audience").fill("Engineers")
    page.get_by_label("Tone").fill("Friendly")
    page.get_by_label("Length").select_option("short")
    page.get_by_label("Language").fill("English")
    page.get_by_label("Engine").select_option("extractive")
    page.get_by_role("button", name="Generate").click()
    expect(page.locator("#progress")).to_be_visible()
    if shot:
        from tests.e2e.conftest import screenshot

        screenshot(page, shot, full_page=False)
    page.wait_for_url(re.compile(r"/dashboard/blogs/[^/]+$"), timeout=GENERATION_TIMEOUT_MS)
    expect(page.get_by_label("Markdown")).to_be_editable(timeout=GENERATION_TIMEOUT_MS)
    expect(page.locator("#save-state")).to_have_text("All changes saved")
    return page.url


def saved(page: Page) -> None:
    expect(page.locator("#save-state")).to_have_text("All changes saved", timeout=15_000)
