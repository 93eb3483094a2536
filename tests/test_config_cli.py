"""Settings discovery, `draftsmith config`, `doctor`, `migrate` and `user` commands."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from draftsmith.config import ConfigError, Settings, describe, load_settings
from tests.fixtures.make import fixture_path


def cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DRAFTSMITH_")}
    clean["COLUMNS"] = "250"
    clean.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "draftsmith.cli", *args],
        cwd=cwd,
        env=clean,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_env_file_found_from_another_working_directory(tmp_path):
    env_file = tmp_path / "conf" / "draftsmith.env"
    env_file.parent.mkdir()
    env_file.write_text(
        f"DRAFTSMITH_DATA_DIR={tmp_path / 'data'}\n"
        "DRAFTSMITH_MAX_UPLOAD_MB=7\nDRAFTSMITH_LLM_API_KEY=sk-very-secret\n"
    )
    elsewhere = tmp_path / "somewhere" / "else"
    elsewhere.mkdir(parents=True)
    result = cli(
        "config",
        cwd=elsewhere,
        env={"DRAFTSMITH_ENV_FILE": str(env_file), "DRAFTSMITH_LOG_LEVEL": "debug"},
    )
    assert result.returncode == 0, result.stderr
    lines = {
        line.split("\t")[0]: line for line in result.stdout.splitlines() if line.count("\t") == 2
    }
    assert (
        "7" in lines["DRAFTSMITH_MAX_UPLOAD_MB"]
        and str(env_file) in lines["DRAFTSMITH_MAX_UPLOAD_MB"]
    )
    assert "environment" in lines["DRAFTSMITH_LOG_LEVEL"]
    assert "default" in lines["DRAFTSMITH_OPEN_REGISTRATION"]
    assert "sk-very-secret" not in result.stdout and "****" in lines["DRAFTSMITH_LLM_API_KEY"]
    assert f"Env file: {env_file}" in result.stdout


def test_dotenv_in_the_working_directory(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text(
        "DRAFTSMITH_MAX_UPLOAD_MB=9\nDRAFTSMITH_REDIS_URL=redis://:hunter2@db:6379/0\n"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DRAFTSMITH_ENV_FILE", raising=False)
    monkeypatch.delenv("DRAFTSMITH_MAX_UPLOAD_MB", raising=False)
    settings = load_settings()
    assert settings.max_upload_mb == 9
    env_file, rows = describe(settings)
    assert env_file == tmp_path / ".env"
    shown = {r.name: r for r in rows}
    assert shown["DRAFTSMITH_REDIS_URL"].value == "redis://:****@db:6379/0"
    assert shown["DRAFTSMITH_REDIS_URL"].source == str(tmp_path / ".env")


def test_named_missing_env_file_is_an_error(tmp_path, monkeypatch):
    missing = tmp_path / "nope.env"
    monkeypatch.setenv("DRAFTSMITH_ENV_FILE", str(missing))
    with pytest.raises(ConfigError, match="nope.env"):
        load_settings()
    result = cli("doctor", cwd=tmp_path, env={"DRAFTSMITH_ENV_FILE": str(missing)})
    assert result.returncode == 2
    assert "nope.env" in result.stderr


def test_secret_is_generated_once_with_mode_0600(tmp_path):
    settings = Settings(_env_file=None, data_dir=tmp_path)
    first = settings.secret()
    assert len(first) >= 40 and first == Settings(_env_file=None, data_dir=tmp_path).secret()
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600


def test_database_urls_get_async_drivers():
    assert (
        Settings(_env_file=None, database_url="postgresql://u@h/db").database
        == "postgresql+asyncpg://u@h/db"
    )
    assert (
        Settings(_env_file=None, database_url="sqlite:////x.db").database
        == "sqlite+aiosqlite:////x.db"
    )


def test_doctor_passes_on_embedded_defaults(tmp_path):
    assert cli("migrate", cwd=tmp_path).returncode == 0
    result = cli("doctor", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "database" in result.stdout and "data_dir" in result.stdout
    assert (tmp_path / "var" / "draftsmith.db").exists()


def test_doctor_on_a_fresh_embedded_data_dir_passes(tmp_path):
    result = cli("doctor", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (
        "does not exist yet" in result.stdout
        and "creates and migrates it at first start" in result.stdout
    )
    assert not (tmp_path / "var" / "draftsmith.db").exists()  # doctor created nothing


def test_doctor_names_an_unmigrated_external_database(tmp_path, postgres_url):
    import asyncio

    from tests.conftest import admin

    name = postgres_url.rsplit("/", 1)[1] + "_empty"
    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        url = postgres_url.rsplit("/", 1)[0] + f"/{name}"
        result = cli("doctor", cwd=tmp_path, env={"DRAFTSMITH_DATABASE_URL": url})
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    assert result.returncode == 1
    assert "Problems with: database" in result.stderr and "not migrated" in result.stdout


def test_config_piped_prints_every_value_in_full(tmp_path):
    long_url = "redis://:" + "p" * 30 + "@a-rather-long-redis-host-name.internal.example.com:6379/0"
    result = cli(
        "config",
        cwd=tmp_path,
        env={"COLUMNS": "", "DRAFTSMITH_MAX_UPLOAD_MB": "9999", "DRAFTSMITH_REDIS_URL": long_url},
    )
    assert result.returncode == 0, result.stderr
    rows = [line.split("\t") for line in result.stdout.splitlines()[1:]]
    assert rows and all(len(r) == 3 for r in rows)
    names = {r[0]: r for r in rows}
    assert len(names) == len(describe(Settings(_env_file=None))[1])  # every setting
    assert names["DRAFTSMITH_MAX_UPLOAD_MB"][1:] == ["9999", "environment"]
    assert (
        names["DRAFTSMITH_REDIS_URL"][1]
        == "redis://:****@a-rather-long-redis-host-name.internal.example.com:6379/0"
    )
    assert any(len(line) > 80 for line in result.stdout.splitlines())


def test_unknown_user_for_ingest_is_one_line(tmp_path):
    doc = tmp_path / "a.md"
    doc.write_text("# A\n\nsome words here\n")
    result = cli("ingest", "--user", "ghost@example.com", str(doc), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == "No user with email ghost@example.com."
    assert "Traceback" not in result.stdout + result.stderr


def test_serve_banner_is_one_line_and_migrations_are_logged_once(tmp_path):
    import time

    import httpx

    port = closed_port()
    clean = {
        k: v for k, v in os.environ.items() if not k.startswith("DRAFTSMITH_") and k != "COLUMNS"
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "draftsmith.cli", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=clean,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0]
    banner = [line for line in output.splitlines() if "Draftsmith on http://127.0.0.1" in line]
    assert len(banner) == 1 and banner[0].rstrip().endswith("draftsmith.db)"), output
    assert output.count("Running upgrade  -> 0001") == 1, output
    assert "Context impl" not in output and "Will assume" not in output, output


def test_make_run_takes_host_and_port(tmp_path):
    import time

    import httpx

    repo = Path(__file__).resolve().parents[1]
    port = closed_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DRAFTSMITH_", "MAKE"))}
    env["DRAFTSMITH_DATA_DIR"] = str(tmp_path / "data")
    venv = Path(sys.executable).parent.parent
    process = subprocess.Popen(
        ["make", "-s", "-C", str(repo), "run", f"VENV={venv}", f"PORT={port}", "HOST=0.0.0.0"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        answered = False
        while time.monotonic() < deadline and not answered:
            try:
                answered = (
                    httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
                )
            except httpx.HTTPError:
                time.sleep(0.2)
    finally:
        os.killpg(process.pid, 15)
        output = process.communicate(timeout=30)[0]
    assert answered, output
    assert f"Draftsmith on http://0.0.0.0:{port}" in output


def test_doctor_against_a_closed_redis_port_names_redis(tmp_path):
    cli("migrate", cwd=tmp_path)
    result = cli(
        "doctor", cwd=tmp_path, env={"DRAFTSMITH_REDIS_URL": f"redis://127.0.0.1:{closed_port()}/0"}
    )
    assert result.returncode == 1
    assert "Problems with: redis" in result.stderr


def test_doctor_names_an_unreachable_llm_endpoint(tmp_path):
    cli("migrate", cwd=tmp_path)
    result = cli(
        "doctor",
        cwd=tmp_path,
        env={"DRAFTSMITH_LLM_BASE_URL": f"http://127.0.0.1:{closed_port()}/v1"},
    )
    assert result.returncode == 1
    assert "llm" in result.stderr


def test_serve_refuses_to_start_without_its_redis(tmp_path):
    result = cli(
        "serve",
        "--port",
        str(closed_port()),
        cwd=tmp_path,
        env={"DRAFTSMITH_REDIS_URL": f"redis://127.0.0.1:{closed_port()}/0"},
    )
    assert result.returncode == 1
    assert "Cannot start" in result.stderr and "redis" in result.stderr


def test_user_create_and_set_password(tmp_path):
    cli("migrate", cwd=tmp_path)
    created = cli(
        "user",
        "create",
        "cli@example.com",
        "--name",
        "Cli",
        cwd=tmp_path,
        stdin="a cli passphrase!\n",
    )
    assert created.returncode == 0, created.stderr
    assert "Created cli@example.com" in created.stdout
    duplicate = cli("user", "create", "cli@example.com", cwd=tmp_path, stdin="a cli passphrase!\n")
    assert duplicate.returncode == 1 and "already exists" in duplicate.stderr
    weak = cli("user", "set-password", "cli@example.com", cwd=tmp_path, stdin="short\n")
    assert weak.returncode == 1
    changed = cli(
        "user", "set-password", "cli@example.com", cwd=tmp_path, stdin="another cli passphrase\n"
    )
    assert changed.returncode == 0, changed.stderr
    unknown = cli(
        "user", "set-password", "ghost@example.com", cwd=tmp_path, stdin="another cli passphrase\n"
    )
    assert unknown.returncode == 1 and "No user" in unknown.stderr


def test_ingest_reports_each_file(tmp_path):
    result = cli(
        "ingest", str(fixture_path("report.pdf")), str(fixture_path("encrypted.pdf")), cwd=tmp_path
    )
    assert result.returncode == 1  # one file failed
    assert "ready" in result.stdout and "failed" in result.stdout and "password" in result.stdout
    assert "pages/s" in result.stdout and "1/2 ready, 8 pages" in result.stdout


def test_generate_writes_a_cited_post_offline(tmp_path):
    out = tmp_path / "post.md"
    result = cli(
        "generate",
        str(fixture_path("report.pdf")),
        str(fixture_path("tide-pools-survey.pdf")),
        "--topic",
        "tide pool animals on rocky shores",
        "--length",
        "short",
        "-o",
        str(out),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    post = out.read_text()
    assert post.startswith("# ") and "## Sources" in post and "[1]" in post
    sources = post.split("## Sources")[1].replace(
        "\\", ""
    )  # names are Markdown-escaped (tide\-pools…)
    assert "report.pdf" in sources and "tide-pools-survey.pdf" in sources
    assert "citations" in result.stderr
    bad = cli(
        "generate", str(fixture_path("scanned.pdf")), "--topic", "anything at all", cwd=tmp_path
    )
    assert bad.returncode == 1 and "could be read" in bad.stderr


def test_generate_refuses_a_topic_the_files_do_not_cover_unless_told(tmp_path):
    args = ("generate", str(fixture_path("tide-pools.md")), "--length", "short")
    off = cli(*args, "--topic", "Sea star wasting disease outbreaks", cwd=tmp_path)
    assert off.returncode == 1 and "don't cover" in off.stderr and "wasting" in off.stderr
    thin = cli(
        *args, "--topic", "Sea star wasting disease outbreaks", "--allow-thin-sources", cwd=tmp_path
    )
    assert thin.returncode == 0, thin.stderr
    assert thin.stdout.startswith("# ") and "[1]" in thin.stdout


def test_serve_refuses_to_start_without_its_llm_endpoint(tmp_path):
    result = cli(
        "serve",
        "--port",
        str(closed_port()),
        cwd=tmp_path,
        env={"DRAFTSMITH_LLM_BASE_URL": f"http://127.0.0.1:{closed_port()}/v1"},
    )
    assert result.returncode == 1
    assert "Cannot start" in result.stderr and "llm" in result.stderr
