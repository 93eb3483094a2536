"""DraftsmithClient against a real server: bearer always, transparent refresh."""

from __future__ import annotations

import time

import pytest

from draftsmith.client import DraftsmithClient, DraftsmithError
from tests.conftest import PASSWORD


@pytest.fixture
def settings_overrides():
    return {"access_token_ttl_s": 1}


def test_client_signs_in_and_refreshes_transparently(live_server):
    with DraftsmithClient(live_server.url) as client:
        user = client.register("client@example.com", PASSWORD, "Client")
        assert user.display_name == "Client"
        client.login("client@example.com", PASSWORD)
        assert client.me().email == "client@example.com"
        first_access, first_refresh = client.access_token, client.refresh_token
        time.sleep(2.1)  # the access token expires
        assert client.me().id == user.id
        assert client.access_token != first_access and client.refresh_token != first_refresh
        client.logout()
        with pytest.raises(DraftsmithError) as exc:
            client.me()
        assert exc.value.status == 401


def test_client_reports_errors(live_server):
    with DraftsmithClient(live_server.url) as client:
        with pytest.raises(DraftsmithError) as exc:
            client.login("nobody@example.com", PASSWORD)
        assert exc.value.status == 401 and exc.value.code == "invalid_credentials"
        with pytest.raises(DraftsmithError) as exc:
            client.register("weak@example.com", "password1234")
        assert exc.value.code == "weak_password"
