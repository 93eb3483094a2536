"""Every page's ES module runs: each page does something only its module can do, no
script leaves a module registry on window, and a module that fails to load is caught."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Watch
from tests.e2e.steps import register

pytestmark = pytest.mark.e2e

NO_REGISTRY = "['api', 'ui', 'generation'].filter((name) => name in window)"


def test_every_page_module_runs(page, browser_context, live):
    register(page, "modules@example.com")

    # dashboard (dashboard.js) fills its lists; the theme toggle is app.js, loaded on every page
    expect(page.locator("#dash-documents")).to_contain_text("No documents yet")
    expect(page.locator("#dash-blogs")).not_to_have_attribute("aria-busy", "true")
    html = page.locator("html")
    page.emulate_media(color_scheme="light")
    page.get_by_role("button", name="Switch to dark theme").click()
    expect(html).to_have_attribute("data-theme", "dark")
    assert page.evaluate(NO_REGISTRY) == []

    # documents (documents.js): the search asks the server and keeps the query in the address
    page.goto("/dashboard/documents")
    expect(page.get_by_text("No documents yet — upload some")).to_be_visible()
    page.get_by_label("Search documents").fill("nothing here")
    expect(page.get_by_text("No documents match your search")).to_be_visible()
    expect(page).to_have_url(re.compile(r"q=nothing\+here"))

    # generate (generate.js, progress.js): the brief is checked before anything is sent
    page.goto("/dashboard/generate")
    expect(page.get_by_text("No ready documents yet — upload some")).to_be_visible()
    page.get_by_role("button", name="Generate").click()
    expect(page.locator("#generate-error")).to_have_text(
        "Choose at least one document. Enter a topic."
    )
    expect(page.get_by_label("Topic")).to_be_focused()

    # blogs (blogs.js)
    page.goto("/dashboard/blogs")
    expect(page.get_by_text("No drafts yet — generate one")).to_be_visible()

    # account (account.js, and app.js's theme radios)
    page.goto("/dashboard/account")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator("#password-result")).to_have_text("Enter your current password.")
    expect(page.get_by_label("Dark")).to_be_checked()
    page.get_by_text("Light", exact=True).click()
    expect(html).to_have_attribute("data-theme", "light")
    # sign out's CSRF field is filled from the cookie by app.js
    assert page.locator("header input[data-csrf]").input_value()
    assert page.evaluate(NO_REGISTRY) == []
    browser_context.watch.assert_clean()

    # editor (editor.js): an unknown draft gets its own state (the browser logs the API's 404)
    page.goto("/dashboard/blogs/no-such-draft")
    expect(page.get_by_text("This draft doesn't exist")).to_be_visible()
    assert page.evaluate(NO_REGISTRY) == []
    assert (
        len(browser_context.watch.console_errors) == 1
        and "404" in browser_context.watch.console_errors[0]
    )


def test_a_module_that_fails_to_load_is_reported(page, browser_context, live):
    """The e2e watch sees a broken module graph: a missing module file, or a missing export."""
    register(page, "broken@example.com")
    watch: Watch = browser_context.watch
    assert not watch.console_errors and not watch.page_errors

    page.route("**/static/progress.js", lambda route: route.fulfill(status=404, body="not found"))
    page.goto("/dashboard/generate")
    expect(page.locator("#doc-choices")).to_have_attribute(
        "aria-busy", "true"
    )  # generate.js never ran
    page.wait_for_function("document.readyState === 'complete'")
    assert any("404" in e for e in watch.console_errors), watch.console_errors

    page.route(
        "**/static/ui.js",
        lambda route: route.fulfill(status=200, content_type="text/javascript", body="export {};"),
    )
    page.goto("/dashboard")
    page.wait_for_function("document.readyState === 'complete'")
    expect(page.locator("#dash-documents")).to_have_attribute(
        "aria-busy", "true"
    )  # dashboard.js never ran
    assert any("does not provide an export named" in e for e in watch.page_errors), (
        watch.page_errors
    )
