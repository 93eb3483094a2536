"""Imports every domain's models so the metadata (and Alembic) sees all tables."""

from draftsmith.auth import models as auth_models  # noqa: F401
from draftsmith.blogs import models as blog_models  # noqa: F401
from draftsmith.db import Base
from draftsmith.documents import models as document_models  # noqa: F401
from draftsmith.sessions import models as session_models  # noqa: F401

metadata = Base.metadata
