"""A newcomer authorizes in /docs (Swagger UI served locally) and calls /api/v1/auth/me there."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import PASSWORD
from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.e2e


def test_authorize_in_docs_and_call_me(live, page):
    httpx.post(
        live.url + "/api/v1/auth/register", json={"email": "docs@example.com", "password": PASSWORD}
    )
    page.goto("/docs")
    page.wait_for_selector(".swagger-ui .information-container .title")
    page.click("button.authorize")
    page.fill("#oauth_username", "docs@example.com")
    page.fill("#oauth_password", PASSWORD)
    page.click(".auth-btn-wrapper button.authorize")
    page.get_by_role("button", name="Logout").first.wait_for()
    page.click("button.btn-done")
    page.click("#operations-auth-me_api_v1_auth_me_get .opblock-summary")
    page.click("button.try-out__btn")
    page.click("button.execute")
    status = page.wait_for_selector(".live-responses-table .response .response-col_status")
    assert status.inner_text().strip() == "200"
    assert "docs@example.com" in page.inner_text(
        ".live-responses-table .response-col_description .microlight"
    )
    screenshot(page, "api-docs", full_page=False)
    watch = page.context.watch
    assert not watch.console_errors and not watch.page_errors, (
        watch.console_errors,
        watch.page_errors,
    )
