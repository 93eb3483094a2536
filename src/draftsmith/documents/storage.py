"""Uploaded files on disk: stored under generated ids, written atomically."""

from __future__ import annotations

import os
import re
import shutil
import time
import unicodedata
from pathlib import Path, PurePosixPath

from draftsmith.config import Settings

_UNSAFE = re.compile(r'[\x00-\x1f\x7f"\\/]')


def sanitise_filename(name: str | None) -> str:
    """The client's name reduced to safe display metadata (never used as a path)."""
    name = unicodedata.normalize("NFC", name or "")
    name = PurePosixPath(name.replace("\\", "/")).name
    name = _UNSAFE.sub("", name).strip().lstrip(".").strip()
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 200 - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 else name[:200]
    return name or "document"


def tmp_dir(settings: Settings) -> Path:
    path = settings.data_dir / "tmp"
    path.mkdir(parents=True, exist_ok=True)
    return path


def storage_key(user_id: str, document_id: str) -> str:
    return f"{user_id}/{document_id}"


def path_for(settings: Settings, key: str) -> Path:
    return settings.upload_dir / key


def place(settings: Settings, temporary: Path, key: str) -> Path:
    """Move a fully written temporary file to its final place (an atomic rename)."""
    final = path_for(settings, key)
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(temporary, final)
    return final


def remove(settings: Settings, key: str) -> None:
    path_for(settings, key).unlink(missing_ok=True)


def remove_stale_temporaries(settings: Settings, older_than_s: float = 3600) -> int:
    """Delete what interrupted uploads left in the temporary directory; returns the count."""
    cutoff = time.time() - older_than_s
    removed = 0
    for path in tmp_dir(settings).iterdir():
        if path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def remove_user_files(settings: Settings, user_id: str) -> None:
    """Delete every stored file of a user (their keys all start with the user id)."""
    if not user_id or Path(user_id).name != user_id:
        raise ValueError(f"not a user id: {user_id!r}")
    shutil.rmtree(path_for(settings, user_id), ignore_errors=True)
