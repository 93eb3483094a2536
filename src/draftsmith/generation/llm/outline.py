"""The outline the model is asked for: one pydantic model gives both the JSON schema sent
as ``response_format`` and the tolerant parser of what comes back (other key names, a
bare heading instead of an object, JSON inside chatter or a code fence)."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from draftsmith.text.words import normalize_whitespace

from ..types import OutlineSection

_MAX_POINTS = 6
_MAX_HEADING_CHARS = 120


def _text(value: Any) -> str:
    return normalize_whitespace(str(value)) if value is not None else ""


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


Text = Annotated[str, BeforeValidator(_text)]
#: a label small models put before the heading itself: "Section 2: ", "Part II - ", "3. "
_LABEL = re.compile(
    r"(?i)^(?:(?:section|part|chapter|step)\s*(?:\d+|[ivx]+)\s*[:.)\-–—]|\d{1,2}[.)])\s*(?=\S)"
)
#: what is not a title: a URL, a path or a file name
_NOT_A_TITLE = re.compile(r"(?i)^(?:[a-z][a-z0-9+.-]*://|/)\S*$|^\S+\.[a-z0-9]{2,5}$")


def _heading(text: str) -> str:
    return _LABEL.sub("", text.strip("# "))[:_MAX_HEADING_CHARS]


Heading = Annotated[Text, AfterValidator(_heading)]
Points = Annotated[
    list[Text],
    BeforeValidator(_as_list),
    AfterValidator(lambda ps: [p for p in ps if p][:_MAX_POINTS]),
]

# The schema lists every field as required and no others (what strict json_schema
# expects); ``default_factory`` keeps defaults out of it while parsing stays lenient.
_CONFIG = ConfigDict(
    json_schema_extra={"additionalProperties": False},
    json_schema_serialization_defaults_required=True,
)


class OutlineItem(BaseModel):
    model_config = _CONFIG

    heading: Heading = Field(validation_alias=AliasChoices("heading", "title", "name"))
    points: Points = Field(
        default_factory=list, validation_alias=AliasChoices("points", "key_points", "bullets")
    )
    query: Text = Field(default_factory=str)

    @model_validator(mode="before")
    @classmethod
    def _bare_heading(cls, data: Any) -> Any:
        return {"heading": data} if isinstance(data, str) else data


class Outline(BaseModel):
    model_config = _CONFIG

    title: Text = Field(default_factory=str)
    sections: list[OutlineItem] = Field(validation_alias=AliasChoices("sections", "outline"))

    @field_validator("title", mode="before")
    @classmethod
    def _title_text_only(cls, value: Any) -> Any:
        if not isinstance(value, str) or _NOT_A_TITLE.match(value.strip()):
            return ""
        return value

    @field_validator("sections", mode="before")
    @classmethod
    def _skip_odd_items(cls, value: Any) -> Any:
        return [x for x in value if isinstance(x, str | dict)] if isinstance(value, list) else value

    @field_validator("sections")
    @classmethod
    def _usable(cls, value: list[OutlineItem]) -> list[OutlineItem]:
        unique: dict[str, OutlineItem] = {}
        for s in value:
            if s.heading:
                unique.setdefault(s.heading.lower(), s)  # the first of duplicate headings
        value = list(unique.values())
        if not value:
            raise ValueError("no usable sections")
        return value

    def to_sections(self, limit: int) -> list[OutlineSection]:
        """The first ``limit`` sections as the engines' :class:`OutlineSection`."""
        return [
            OutlineSection(heading=s.heading, points=list(s.points), query=s.query)
            for s in self.sections[: max(limit, 1)]
        ]


def outline_schema(lo: int, hi: int) -> dict[str, Any]:
    """The JSON schema of an :class:`Outline` of ``lo``..``hi`` sections."""
    schema = Outline.model_json_schema(mode="serialization")
    schema["properties"]["sections"].update(minItems=lo, maxItems=hi)
    return schema


def response_format(lo: int, hi: int) -> dict[str, Any]:
    """The strictest ``response_format`` (``json_schema``) asking for that outline."""
    return {
        "type": "json_schema",
        "json_schema": {"name": "blog_outline", "strict": True, "schema": outline_schema(lo, hi)},
    }


def extract_json_object(text: str) -> Any:
    """The first JSON object in ``text`` (code fences and chatter around it ignored)."""
    fence = re.search(r"```(?:json|JSON)?\s*\n?(.*?)```", text, re.DOTALL)
    decoder = json.JSONDecoder()
    for candidate in ([fence.group(1)] if fence else []) + [text]:
        for brace in re.finditer(r"\{", candidate):
            try:
                return decoder.raw_decode(candidate, brace.start())[0]
            except json.JSONDecodeError:
                continue
    raise ValueError("no JSON object found")


def parse_outline(text: str) -> Outline:
    """The model's outline; ``ValueError`` (pydantic's ``ValidationError`` is one) if unusable."""
    return Outline.model_validate(extract_json_object(text))
