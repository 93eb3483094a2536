"""Fixtures for the generation tests: the fake OpenAI server and corpus passages."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
for p in (ROOT, ROOT / "src"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from tests.fakes.openai_server import FakeOpenAIServer  # noqa: E402


@pytest.fixture(scope="session")
def _openai_server_session():
    server = FakeOpenAIServer().start()
    yield server
    server.stop()


@pytest.fixture
def openai_server(_openai_server_session):
    """A running fake OpenAI-compatible server (real HTTP on 127.0.0.1), reset for each test."""
    _openai_server_session.reset()
    yield _openai_server_session
    _openai_server_session.reset()
