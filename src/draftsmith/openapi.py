"""The OpenAPI document states what the API really answers.

FastAPI documents the routes' declared answers; this adds what every operation can
answer through the shared layers (400, 413, 415, 422: middleware and error handlers),
gives every error answer the one body (:class:`~draftsmith.errors.ErrorOut`), and takes
each operation's summary from the first line of its docstring.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from draftsmith.errors import ErrorOut

ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}
DESCRIPTIONS = {
    "400": "Malformed request: a NUL character in the URL, or a body that cannot be parsed.",
    "401": "Missing, invalid or expired credentials (`WWW-Authenticate: Bearer`).",
    "403": "Not allowed.",
    "404": "Not found, or not yours (`not_found`).",
    "409": "The object is not in a state that allows this (see `code`).",
    "413": "The body is larger than the limit (`payload_too_large`).",
    "415": "The body is not of a type this operation takes (`unsupported_media_type`).",
    "422": "The request does not validate (`validation_error` lists the issues) "
    "or breaks a rule stated by `code`.",
    "429": "Too many requests; `Retry-After` says when to try again.",
}
_FRAMEWORK_SCHEMAS = ("HTTPValidationError", "ValidationError")


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = complete(FastAPI.openapi(app))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def complete(schema: dict[str, Any]) -> dict[str, Any]:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for name in _FRAMEWORK_SCHEMAS:
        components.pop(name, None)
    error = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(error.pop("$defs", {}))
    components["ErrorOut"] = error
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            _complete_operation(operation)
    return schema


def _complete_operation(operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    body = operation.get("requestBody", {}).get("content", {})
    added = {"400"}
    if body:
        added.add("413")
    if "application/json" in body:
        added.add("415")
    if body or operation.get("parameters"):
        added.add("422")
    for status in added:
        responses.setdefault(status, {})
    for status, response in responses.items():
        if status.isdigit() and int(status) >= 400 and _is_error_body(response):
            response["content"] = {"application/json": {"schema": ERROR_REF}}
            if response.get("description") in (None, "", "Additional Response"):
                response["description"] = DESCRIPTIONS.get(status, "Error.")
            elif status == "422":
                response["description"] = DESCRIPTIONS["422"]
    _summarise(operation)


def _is_error_body(response: dict[str, Any]) -> bool:
    """No body declared, FastAPI's validation body, or the inline ``{detail, code}``."""
    content = response.get("content", {}).get("application/json")
    if content is None:
        return "content" not in response
    schema = content.get("schema", {})
    ref = schema.get("$ref", "")
    return ref.endswith("/HTTPValidationError") or set(schema.get("properties", {})) == {
        "detail",
        "code",
    }


def _summarise(operation: dict[str, Any]) -> None:
    """Summary: the docstring's first paragraph; description: the rest (or the summary)."""
    docstring = (operation.get("description") or "").strip()
    if not docstring:
        return
    first, _, rest = docstring.partition("\n\n")
    operation["summary"] = " ".join(first.split())
    operation["description"] = rest.strip() or operation["summary"]
