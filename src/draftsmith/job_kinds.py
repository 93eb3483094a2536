"""The kinds of background work of this application.

Registered where the application is assembled (the app factory, the worker
entry point, the one-shot CLI path), so the job system imports no domain.
"""

from __future__ import annotations

from draftsmith.blogs.pipeline import BLOG_JOB
from draftsmith.blogs.rewrite import REWRITE_JOB
from draftsmith.documents.pipeline import DOCUMENT_JOB

JOB_KINDS = (DOCUMENT_JOB, BLOG_JOB, REWRITE_JOB)
