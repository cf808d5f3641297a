"""Every error as RFC 9457 problem details (``application/problem+json``)."""

from __future__ import annotations

from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from learntogether.content.validate import json_path as content_json_path
from learntogether.problems import problem
from learntogether.services.errors import (
    Conflict,
    DomainError,
    FieldProblem,
    InvalidInput,
    InvalidToken,
    NotAllowed,
    NotFound,
)

_DOMAIN_STATUS: dict[type[DomainError], int] = {
    NotFound: 404,
    Conflict: 409,
    NotAllowed: 403,
    InvalidToken: 401,
    InvalidInput: 422,
}


def json_path(location: Sequence[str | int]) -> str:
    """pydantic's ``loc`` as a JSON path: ``("body", "steps", 0, "text")`` → ``$.steps[0].text``.

    Query, path and header parameters keep their source: ``("query", "limit")`` → ``query.limit``.
    """
    source, *rest = location or ("body",)
    path = content_json_path(tuple(rest))
    return path if source == "body" else str(source) + path.removeprefix("$")


def _validation_problems(error: RequestValidationError) -> list[FieldProblem]:
    return [_problem_of(item) for item in error.errors()]


def _problem_of(item: Any) -> FieldProblem:
    location = item.get("loc", ())
    if item.get("type") == "json_invalid" and len(location) == 2:
        # pydantic puts the character offset where a field name would be: ("body", 8).
        reason = item.get("ctx", {}).get("error", "JSON decode error")
        return FieldProblem("$", f"not valid JSON at character {location[1]}: {reason}")
    return FieldProblem(json_path(location), item.get("msg", "invalid"))


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = (
            exc.detail
            if isinstance(exc.detail, str) and exc.detail != HTTPStatus(exc.status_code).phrase
            else None
        )
        return problem(exc.status_code, detail, headers=exc.headers, instance=request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem(
            422,
            "The request has invalid fields.",
            title="Invalid input",
            errors=_validation_problems(exc),
            instance=request.url.path,
        )

    @app.exception_handler(DomainError)
    async def _domain_error(request: Request, exc: DomainError) -> JSONResponse:
        status = next((code for kind, code in _DOMAIN_STATUS.items() if isinstance(exc, kind)), 400)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        problems = exc.problems if isinstance(exc, InvalidInput) else ()
        return problem(
            status,
            exc.detail,
            title=exc.title,
            errors=problems,
            headers=headers,
            instance=request.url.path,
        )
