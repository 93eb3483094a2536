"""The base of every request body model."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

#: what the schema says of every string of a request body (the validator below enforces it)
NO_NUL_PATTERN = "^[^\\x00]*$"


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple):
        return any(_has_nul(item) for item in value)
    return False


def _state_no_nul(schema: dict[str, Any]) -> None:
    """Give every string (also inside ``anyOf`` and array items) the NUL-free pattern."""
    if schema.get("type") == "string" and "pattern" not in schema and "enum" not in schema:
        schema["pattern"] = NO_NUL_PATTERN
    for option in schema.get("anyOf", []):
        _state_no_nul(option)
    if isinstance(schema.get("items"), dict):
        _state_no_nul(schema["items"])


def _document_no_nul(schema: dict[str, Any]) -> None:
    for field in schema.get("properties", {}).values():
        _state_no_nul(field)


class InputModel(BaseModel):
    """Refuses unknown shapes early: NUL characters (which no database stores) are a 422."""

    model_config = ConfigDict(json_schema_extra=_document_no_nul)

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if _has_nul(value):
            raise ValueError("must not contain NUL characters")
        return value
