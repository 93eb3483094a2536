"""The codebase's shape: dependencies point one way (the import-linter contracts in
pyproject.toml hold, and fail when an import against the layering comes back), and no
module or function under src/draftsmith grows past a reader's size."""

from __future__ import annotations

import ast
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


MAX_MODULE_LINES = 700
MAX_FUNCTION_LINES = 80
# Alembic migrations are table definitions: long by nature, and never edited once released.
SIZE_EXEMPT = ("migrations/versions/",)


def oversized(package: Path) -> list[str]:
    """Modules over the limit (``path: N lines``) and functions (``path:line name(): N lines``)."""
    offenders = []
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package).as_posix()
        if rel.startswith(SIZE_EXEMPT):
            continue
        source = path.read_text(encoding="utf-8")
        if (n := len(source.splitlines())) > MAX_MODULE_LINES:
            offenders.append(f"{rel}: {n} lines")
        for node in ast.walk(ast.parse(source, filename=str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    offenders.append(f"{rel}:{node.lineno} {node.name}(): {n} lines")
    return offenders


def test_no_module_or_function_is_oversized():
    offenders = oversized(ROOT / "src" / "draftsmith")
    assert not offenders, (
        f"over {MAX_MODULE_LINES} lines per module or {MAX_FUNCTION_LINES} per function "
        "(split into named steps):\n" + "\n".join(offenders)
    )


def test_the_size_check_names_each_offender(tmp_path):
    body = "".join(f"    x{i} = {i}\n" for i in range(MAX_FUNCTION_LINES))
    (tmp_path / "long_function.py").write_text(f"def long():\n{body}", encoding="utf-8")
    (tmp_path / "long_module.py").write_text("x = 1\n" * (MAX_MODULE_LINES + 1), encoding="utf-8")
    (tmp_path / "fits.py").write_text("def short():\n    return 1\n", encoding="utf-8")
    versions = tmp_path / "migrations" / "versions"
    versions.mkdir(parents=True)
    (versions / "0001_tables.py").write_text("x = 1\n" * 2000, encoding="utf-8")
    assert oversized(tmp_path) == [
        "long_function.py:1 long(): 81 lines",
        f"long_module.py: {MAX_MODULE_LINES + 1} lines",
    ]
