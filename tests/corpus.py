"""The one place that decides where the real-world corpus (the extended test suite) is.

`DRAFTSMITH_CORPUS_DIR` if set, else `../shared/corpus` beside the repository. Tests that
need it carry `@pytest.mark.corpus`; when the directory is absent, tests/conftest.py
deselects them and says so in one line (under CI=true an explicitly set but missing
directory is an error instead).
"""

from __future__ import annotations

import os
from pathlib import Path

ENV = "DRAFTSMITH_CORPUS_DIR"
REPO = Path(__file__).resolve().parents[1]
EXPLICIT = bool(os.environ.get(ENV))
CORPUS = Path(os.environ[ENV]).expanduser() if EXPLICIT else REPO.parent / "shared" / "corpus"
AVAILABLE = CORPUS.is_dir()


def corpus(relative: str) -> Path:
    """A corpus file (only call this from tests marked `corpus`)."""
    return CORPUS / relative


def corpus_files(*folders: str) -> list[Path]:
    """Files of the given corpus folders (all when none), sorted; [] without a corpus."""
    if not AVAILABLE:
        return []
    return sorted(
        p for p in CORPUS.glob("*/*") if p.is_file() and (not folders or p.parent.name in folders)
    )
