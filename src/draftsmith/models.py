"""Imports every domain's models so the metadata (and Alembic) sees all tables."""

from draftsmith.auth import models as auth_models  # noqa: F401
from draftsmith.db import Base

metadata = Base.metadata
