"""Sign-in, registration and account pages in Chromium (no documents needed)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.e2e.conftest import DESKTOP, PHONE, screenshot
from tests.e2e.steps import open_nav, register, sign_in

pytestmark = pytest.mark.e2e

NEW_PASSWORD = "another sturdy passphrase"


@pytest.fixture
def settings_overrides(request):
    if "rate_limit" in request.node.name:
        return {"login_limit_account": "3/minute"}
    return {}


def test_register_errors_are_clear_and_keep_the_input(page, live):
    page.goto("/register")
    for theme in ("light", "dark"):
        page.emulate_media(color_scheme=theme)
        for viewport, phone in ((DESKTOP, False), (PHONE, True)):
            page.set_viewport_size(viewport)
            screenshot(page, f"00-register-{theme}", phone=phone)
    page.emulate_media(color_scheme="light")
    page.set_viewport_size(DESKTOP)
    page.get_by_label("Email").fill("weak@example.com")
    page.get_by_label("Password").fill("password1234")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("alert")).to_contain_text("common")
    expect(page.get_by_label("Email")).to_have_value("weak@example.com")
    screenshot(page, "00-register-error")

    register(page, "taken@example.com")
    page.get_by_role("button", name="Sign out").click()
    page.goto("/register")
    page.get_by_label("Email").fill("taken@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/register$"))


def test_sign_in_errors_and_rate_limit(page, live):
    register(page, "limited@example.com")
    page.get_by_role("button", name="Sign out").click()
    page.goto("/login")
    for theme in ("light", "dark"):
        page.emulate_media(color_scheme=theme)
        for viewport, phone in ((DESKTOP, False), (PHONE, True)):
            page.set_viewport_size(viewport)
            screenshot(page, f"01-login-{theme}", phone=phone)
    page.emulate_media(color_scheme="light")
    page.set_viewport_size(DESKTOP)
    for _ in range(3):
        page.get_by_label("Email").fill("limited@example.com")
        page.get_by_label("Password").fill("not the password")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")
        expect(page.get_by_label("Email")).to_have_value("limited@example.com")
        expect(page.get_by_label("Password")).to_be_focused()
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("Please wait a moment")
    expect(alert).to_contain_text(re.compile(r"Try again in \d+ seconds"))
    screenshot(page, "01-login-rate-limited")


def test_next_brings_the_user_back(page, live):
    register(page, "next@example.com")
    page.get_by_role("button", name="Sign out").click()
    page.goto("/dashboard/account")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fdashboard%2Faccount$"))
    page.get_by_label("Email").fill("next@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/dashboard/account$"))


def test_account_changes_the_password(page, browser_context, live):
    register(page, "account@example.com")
    open_nav(page, "Account")
    expect(page.get_by_text("account@example.com")).to_be_visible()
    screenshot(page, "15-account-first")

    page.get_by_label("Current password").fill("not my password")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Confirm new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.locator("#password-result")).to_contain_text("current password is not correct")

    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("Confirm new password").fill("something else entirely")
    page.get_by_role("button", name="Change password").click()
    expect(page.locator("#password-result")).to_contain_text("don't match")

    page.get_by_label("Confirm new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    expect(page.locator("#password-result")).to_contain_text("Password changed")
    expect(page.get_by_label("Current password")).to_have_value("")

    page.get_by_role("main").get_by_role("button", name="Sign out", exact=True).click()
    expect(page).to_have_url(re.compile(r"/login\?signed_out=1$"))
    expect(page.locator("#signed-out")).to_have_text("You have signed out.")
    page.get_by_label("Email").fill("account@example.com")
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    assert not browser_context.watch.page_errors


def test_theme_toggle_is_remembered(page, live):
    register(page, "theme@example.com")
    html = page.locator("html")
    page.emulate_media(color_scheme="light")
    toggle = page.get_by_role("button", name="Switch to dark theme")
    toggle.click()
    expect(html).to_have_attribute("data-theme", "dark")
    expect(page.get_by_role("button", name="Switch to light theme")).to_be_visible()
    page.reload()
    expect(html).to_have_attribute("data-theme", "dark")
    screenshot(page, "02-dashboard-dark-toggle")
    open_nav(page, "Account")
    expect(page.get_by_label("Dark")).to_be_checked()
    page.get_by_text("System", exact=True).click()
    expect(html).not_to_have_attribute("data-theme", re.compile("."))
    page.emulate_media(color_scheme="dark")
    expect(page.get_by_role("button", name="Switch to light theme")).to_be_visible()


def test_keyboard_and_narrow_screens(page, live):
    register(page, "keys@example.com")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.closest('main') !== null")
    assert focused, "Skip to content lands in the main content"
    page.set_viewport_size(PHONE)
    for path in (
        "/dashboard",
        "/dashboard/documents",
        "/dashboard/generate",
        "/dashboard/blogs",
        "/dashboard/account",
        "/dashboard/blogs/missing",
    ):
        page.goto(path)
        page.wait_for_load_state("networkidle")
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} scrolls sideways on a phone by {overflow}px"
        nav = page.evaluate(
            "(() => { const n = document.querySelector('.mainnav'); return n.scrollWidth - "
            "n.clientWidth; })()"
        )
        assert nav <= 0, f"{path}: the main navigation does not fit a phone ({nav}px hidden)"
    screenshot(page, "20-nav", phone=True, full_page=False)
    # focus is visible: the outline of a focused control is not 'none'
    page.goto("/dashboard/account")
    page.get_by_label("Current password").focus()
    shadow = page.evaluate("getComputedStyle(document.activeElement).boxShadow")
    assert shadow and shadow != "none"
    expect(page.get_by_role("heading", name="Account")).to_be_visible()


def test_missing_draft_shows_a_clear_state(page, live):
    register(page, "missing@example.com")
    open_nav(page, "Blogs")
    expect(page.get_by_text("No drafts yet — generate one")).to_be_visible()
    screenshot(page, "13-blogs-empty")
    open_nav(page, "Generate")
    expect(page.get_by_text("No ready documents yet — upload some")).to_be_visible()
    screenshot(page, "12-generate-empty")
    page.goto("/dashboard/blogs/does-not-exist")
    expect(page.get_by_text("This draft doesn't exist")).to_be_visible()
    expect(
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Blogs")
    ).to_have_attribute("aria-current", "page")


def test_a_dead_session_goes_to_sign_in_and_comes_back(page, browser_context, live):
    register(page, "dead@example.com")
    open_nav(page, "Documents")
    other = browser_context.new_page()
    other.goto("/dashboard/account")
    other.get_by_role("banner").get_by_role("button", name="Sign out").click()
    expect(other).to_have_url(re.compile(r"/login\?signed_out=1$"))
    # the first tab's next API call meets a 401 and is sent to sign in, keeping its place
    page.get_by_label("Search documents").fill("tables")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fdashboard%2Fdocuments%3Fq%3Dtables$"))
    expect(page.get_by_text("Sign in to continue.")).to_be_visible()
    page.get_by_label("Email").fill("dead@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/dashboard/documents\?q=tables$"))
    expect(page.get_by_label("Search documents")).to_have_value("tables")


def test_account_signs_out_everywhere_and_deletes_itself(page, browser_context, chromium, live):
    register(page, "leaving@example.com")
    other = chromium.new_context(viewport=DESKTOP, base_url=live.url)
    try:
        elsewhere = other.new_page()
        sign_in(elsewhere, "leaving@example.com")

        open_nav(page, "Account")
        page.get_by_role("button", name="Sign out everywhere").click()
        dialog = page.get_by_role("dialog", name="Sign out everywhere?")
        dialog.get_by_role("button", name="Cancel").click()
        expect(page).to_have_url(re.compile(r"/dashboard/account$"))
        page.get_by_role("button", name="Sign out everywhere").click()
        dialog.get_by_role("button", name="Sign out everywhere").click()
        expect(page).to_have_url(re.compile(r"/login\?signed_out=all$"))
        expect(page.locator("#signed-out")).to_contain_text("signed out everywhere")
        elsewhere.goto("/dashboard")  # the other browser is signed out too
        expect(elsewhere).to_have_url(re.compile(r"/login\?next="))
    finally:
        other.close()

    sign_in(page, "leaving@example.com")
    open_nav(page, "Account")
    page.get_by_role("button", name="Delete account…").click()
    dialog = page.get_by_role("dialog", name="Delete your account?")
    expect(dialog.get_by_label("Password")).to_be_focused()
    dialog.get_by_label("Password").fill("not my password")
    dialog.get_by_role("button", name="Delete my account").click()
    expect(dialog.get_by_role("alert")).to_contain_text("password is not correct")
    screenshot(page, "16-account-delete")
    dialog.get_by_label("Password").fill(PASSWORD)
    dialog.get_by_role("button", name="Delete my account").click()
    expect(page).to_have_url(re.compile(r"/login\?signed_out=deleted$"))
    expect(page.locator("#signed-out")).to_contain_text("were deleted")
    page.get_by_label("Email").fill("leaving@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")
    assert not browser_context.watch.page_errors
