"""Generation with the LLM engine (a scripted OpenAI-compatible server on loopback):
live progress from the event stream, and cancelling a run."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import PHONE, screenshot
from tests.e2e.steps import MARKDOWN, open_nav, register, upload, wait_ready

pytestmark = pytest.mark.e2e


@pytest.fixture
def settings_overrides(openai_server):
    openai_server.latency = 1.5
    return {
        "llm_base_url": openai_server.base_url,
        "llm_api_key": "test-key",
        "llm_model": "fake-model",
    }


def prepare(page, email: str) -> None:
    register(page, email)
    open_nav(page, "Documents")
    upload(page, MARKDOWN)
    wait_ready(page, MARKDOWN)
    open_nav(page, "Generate")
    expect(page.get_by_label("Engine")).to_have_value("llm")
    page.get_by_label(MARKDOWN.name).check()
    page.get_by_label("Topic").fill("Tide pool animals on rocky shores")


def test_llm_draft_streams_its_progress(page, browser_context, live):
    prepare(page, "llm@example.com")
    page.get_by_role("button", name="Generate").click()
    progress = page.locator("#progress")
    expect(progress).to_be_visible()
    expect(page.locator("#generate-form")).to_be_hidden()
    expect(page.locator("#progress-outline li").first).to_be_visible(timeout=30_000)
    screenshot(page, "07-generate-progress-llm")
    page.set_viewport_size(PHONE)
    screenshot(page, "07-generate-progress-llm", phone=True, full_page=False)
    page.wait_for_url(re.compile(r"/dashboard/blogs/[^/]+$"), timeout=120_000)
    expect(page.get_by_label("Markdown")).to_be_editable(timeout=60_000)
    expect(page.locator("#citations .citation").first).to_be_visible()
    expect(page.locator("#editor-meta")).to_contain_text("llm")
    browser_context.watch.assert_clean()


def test_cancelling_a_generation(page, live, openai_server):
    openai_server.latency = 4
    prepare(page, "cancel@example.com")
    page.get_by_role("button", name="Generate").click()
    expect(page.locator("#progress")).to_be_visible()
    page.locator("#progress").get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("heading", name="Generation cancelled")).to_be_visible(timeout=30_000)
    expect(page.locator("#progress-error")).to_contain_text("Nothing was written")
    screenshot(page, "07-generate-cancelled", full_page=False)
    page.get_by_role("button", name="Change the brief").click()
    expect(page.get_by_role("button", name="Generate")).to_be_enabled()
    expect(page.get_by_label("Topic")).to_have_value("Tide pool animals on rocky shores")
    open_nav(page, "Blogs")
    expect(page.locator(".blog-card .badge")).to_have_text("Cancelled")
