from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from draftsmith.schemas import InputModel

Length = Literal["short", "medium", "long"]
EngineName = Literal["extractive", "llm"]


class CoverageIn(InputModel):
    topic: str = Field(min_length=3, max_length=2000)
    document_ids: list[str] = Field(min_length=1, max_length=100)


class CoverageOut(BaseModel):
    """How well the documents cover the topic."""

    score: float = Field(ge=0, le=1, description="0..1; the topic is covered from `covered`.")
    found: list[str] = Field(description="The topic's terms the documents contain.")
    missing: list[str] = Field(description="The topic's terms they never mention.")
    covered: bool = Field(description="Whether the score reaches the calibrated threshold.")
    about: list[str] = Field(description="What the documents are about: headings, words.")


class SessionIn(InputModel):
    topic: str = Field(min_length=3, max_length=2000)
    document_ids: list[str] = Field(min_length=1, max_length=100)
    title: str | None = Field(None, max_length=300)
    audience: str | None = Field(None, max_length=300)
    tone: str | None = Field(None, max_length=100)
    length: Length = "medium"
    language: str | None = Field(None, max_length=50)
    instructions: str | None = Field(None, max_length=4000)
    engine: EngineName | None = None
    allow_thin_sources: bool = False


class SessionPatch(InputModel):
    # optional but never null: the schema says so (a null is a 422, as the service answers)
    topic: Annotated[str, Field(min_length=3, max_length=2000)] | SkipJsonSchema[None] = None
    document_ids: (
        Annotated[list[str], Field(min_length=1, max_length=100)] | SkipJsonSchema[None]
    ) = None
    title: str | None = Field(None, max_length=300)
    audience: str | None = Field(None, max_length=300)
    tone: str | None = Field(None, max_length=100)
    length: Length | SkipJsonSchema[None] = None
    language: str | None = Field(None, max_length=50)
    instructions: str | None = Field(None, max_length=4000)
    engine: EngineName | None = None
    allow_thin_sources: bool | SkipJsonSchema[None] = None


class SessionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    title: str | None
    topic: str
    document_ids: list[str]
    audience: str | None
    tone: str | None
    length: Length
    language: str | None
    instructions: str | None
    engine: EngineName
    allow_thin_sources: bool
    coverage: CoverageOut | None = Field(
        description="Coverage of the topic by the documents; null while one is not ready."
    )
    created_at: datetime
    updated_at: datetime


class Brief(BaseModel):
    """The brief a blog was generated from: its session's settings at that moment."""

    model_config = ConfigDict(from_attributes=True)

    topic: str
    document_ids: list[str]
    title: str | None = None
    audience: str | None = None
    tone: str | None = None
    length: Length = "medium"
    language: str | None = None
    instructions: str | None = None
    engine: EngineName = "extractive"
    allow_thin_sources: bool = False


class SessionPage(BaseModel):
    items: list[SessionOut]
    next_cursor: str | None
