"""RFC 9457 problem details (``application/problem+json``): the shape of every HTTP error.

The API's error handlers answer with it, and so does the bot's webhook route, which the API app
serves but which belongs to the bot; so it lives below both.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

from fastapi.responses import JSONResponse

from learntogether.services.errors import FieldProblem

PROBLEM_JSON = "application/problem+json"
# A body with thousands of bad items would otherwise come back as a problem document of megabytes.
MAX_ERRORS = 50


# The shape above as an OpenAPI schema: every error answer of every route is documented with it.
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["path", "message"],
                "properties": {"path": {"type": "string"}, "message": {"type": "string"}},
            },
        },
        "errors_omitted": {"type": "integer"},
    },
}


def problem_response(description: str) -> dict[str, Any]:
    """An OpenAPI response that answers problem details."""
    return {"description": description, "content": {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}}}


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: problem_response(description)
    for status, description in (
        (400, "A request the route cannot read"),
        (401, "Missing, unknown or revoked token"),
        (403, "The token's role or reach does not allow this"),
        (404, "Nothing has this id, code or slug"),
        (409, "In conflict with what is stored"),
        (413, "The body is too large"),
        (422, "Invalid input: each problem names its field"),
    )
}


def problem(
    status: int,
    detail: str | None = None,
    *,
    title: str | None = None,
    errors: Sequence[FieldProblem] = (),
    headers: Mapping[str, str] | None = None,
    instance: str | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title or HTTPStatus(status).phrase,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = [{"path": e.path, "message": e.message} for e in errors[:MAX_ERRORS]]
        if len(errors) > MAX_ERRORS:
            body["errors_omitted"] = len(errors) - MAX_ERRORS
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)
