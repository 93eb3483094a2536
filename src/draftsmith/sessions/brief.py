"""A session's brief as it was when a blog was generated from it.

A blog keeps a snapshot of the brief it was written from: the session's brief may change
afterwards (a regeneration with another audience, topic or documents), and the blogs list
still tells which brief each draft came from. The generation job writes from the snapshot,
so a brief changed while a blog waits in the queue does not change that blog.
"""

from __future__ import annotations

from typing import Any

from draftsmith.sessions.models import GenerationSession
from draftsmith.sessions.schemas import Brief


def snapshot_of(session: GenerationSession) -> dict[str, Any]:
    """What a new blog of ``session`` stores as its brief."""
    return Brief.model_validate(session).model_dump()


def brief_to_write(snapshot: dict[str, Any] | None, session: GenerationSession) -> Brief:
    """The brief a blog is written from: its snapshot, or (a blog queued before snapshots
    were kept) its session's brief now."""
    return Brief.model_validate(snapshot) if snapshot else Brief.model_validate(session)
