"""The generation tests use the shared `openai_server` fixture of tests/conftest.py."""
