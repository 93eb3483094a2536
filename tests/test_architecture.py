"""Dependencies point one way: the import-linter contracts in pyproject.toml hold, and they
fail when an import against the layering (a cycle between packages) comes back."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(source_root: Path, cwd: Path) -> subprocess.CompletedProcess:
    """Run the project's contracts over the ``draftsmith`` package found under ``source_root``."""
    env = {**os.environ, "PYTHONPATH": str(source_root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_import_contracts_are_kept(tmp_path):
    result = lint_imports(ROOT / "src", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout and "KEPT" in result.stdout


@pytest.mark.parametrize(
    ("module", "back_import", "reported"),
    [
        # sessions → blogs closes a cycle with blogs → sessions
        ("sessions/service.py", "draftsmith.blogs.models", "draftsmith.sessions.service ->"),
        # the job system reaching into a domain it runs
        ("jobs/runner.py", "draftsmith.documents.models", "draftsmith.jobs.runner ->"),
        # web importing a routes module instead of a service
        ("web/routes.py", "draftsmith.auth.routes", "draftsmith.web.routes ->"),
    ],
)
def test_an_import_against_the_layering_breaks_a_contract(tmp_path, module, back_import, reported):
    copy = tmp_path / "src" / "draftsmith"
    shutil.copytree(
        ROOT / "src" / "draftsmith",
        copy,
        ignore=shutil.ignore_patterns("__pycache__", "static", "templates", "migrations"),
    )
    with (copy / module).open("a", encoding="utf-8") as source:
        source.write(f"\nimport {back_import}  # noqa: E402, F401\n")
    result = lint_imports(tmp_path / "src", tmp_path)
    assert result.returncode != 0, result.stdout
    assert "BROKEN" in result.stdout
    assert reported in " ".join(result.stdout.split()), result.stdout
