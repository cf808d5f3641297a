"""Every error as RFC 9457 problem details (``application/problem+json``)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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

log = logging.getLogger(__name__)

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


class UnexpectedErrors:
    """Answers an error nobody expected with a 500 problem and logs it once, with its traceback.

    Starlette's own handler for ``Exception`` answers and then raises again, so the server logged
    every such error a second time (with the request's SQL parameters, before they were hidden).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def noting_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, noting_send)
        except Exception:
            log.exception("unhandled error on %s %s", scope["method"], scope["path"])
            if started:
                raise  # too late for an answer of our own: the server closes the connection
            response = problem(
                500, "Something went wrong on our side; it has been logged.", instance=scope["path"]
            )
            await response(scope, receive, send)
