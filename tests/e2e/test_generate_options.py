"""The generate page is honest (issue 9): live coverage of the topic by the chosen
documents, the options only the LLM engine uses, and the LLM engine off when unconfigured."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.steps import MARKDOWN, open_nav, register, upload, wait_ready

pytestmark = pytest.mark.e2e

LLM_SETTINGS = ("DRAFTSMITH_LLM_BASE_URL", "DRAFTSMITH_LLM_MODEL", "DRAFTSMITH_LLM_API_KEY")
LLM_ONLY = ("audience", "tone", "instructions")


def llm_only_note(page, field: str):
    return page.locator(f"#{field}-llm-only")


def test_live_coverage_and_an_unconfigured_llm(page, browser_context, live):
    register(page, "coverage@example.com")
    open_nav(page, "Documents")
    upload(page, MARKDOWN)
    wait_ready(page, MARKDOWN)
    open_nav(page, "Generate")

    # no LLM endpoint: the option is disabled and the page names the settings that enable it
    expect(page.locator("#engine option[value=llm]")).to_be_disabled()
    expect(page.get_by_label("Engine")).to_have_value("extractive")
    for name in LLM_SETTINGS:
        expect(page.locator("#engine-help")).to_contain_text(name)
    for field in LLM_ONLY:
        expect(llm_only_note(page, field)).to_have_text("used by the LLM engine")

    # an off-topic brief: the missing terms show as the user types, and Generate says why not
    page.get_by_label(MARKDOWN.name).check()
    page.get_by_label("Topic").fill("Kubernetes pod networking explained")
    box = page.locator("#coverage")
    expect(box).to_have_attribute("data-state", "thin")
    missing = page.locator("#coverage-missing .term")
    expect(missing).to_have_text(["kubernetes", "pod", "networking"])
    expect(page.locator("#coverage-state")).to_contain_text("don't cover")
    expect(page.locator("#coverage-state")).to_contain_text("Tide Pool Animals on Rocky Shores")
    page.get_by_role("button", name="Generate").click()
    expect(page.locator("#generate-error")).to_contain_text("don't cover this topic")
    expect(page.get_by_label("Write anyway from thin sources")).to_be_focused()

    # a topic the document covers
    page.get_by_label("Topic").fill("Tide pool animals on rocky shores")
    expect(box).to_have_attribute("data-state", "covered")
    expect(page.locator("#coverage-missing")).to_have_text("none")
    expect(page.locator("#allow-thin-row")).to_be_hidden()
    browser_context.watch.assert_clean()


class TestWithAnLLM:
    @pytest.fixture
    def settings_overrides(self, openai_server):
        return {"llm_base_url": openai_server.base_url, "llm_model": "fake-model"}

    def test_llm_only_options_are_marked_for_the_extractive_engine(self, page, live):
        register(page, "options@example.com")
        open_nav(page, "Generate")
        engine = page.get_by_label("Engine")
        expect(page.locator("#engine option[value=llm]")).to_be_enabled()
        expect(engine).to_have_value("llm")
        for field in LLM_ONLY:
            expect(llm_only_note(page, field)).to_be_hidden()
        engine.select_option("extractive")
        for field in LLM_ONLY:
            expect(llm_only_note(page, field)).to_be_visible()
