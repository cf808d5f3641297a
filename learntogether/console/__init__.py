"""The web console for programme staff: HTML pages over the same services as the API.

``install(app, settings)`` adds the pages under ``/`` to the app that serves ``/api/v1``.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request, Response
from starlette.exceptions import HTTPException

from learntogether.config import Settings
from learntogether.console import (
    access,
    assisted,
    auth,
    broadcasts,
    cohorts,
    curriculum,
    dashboard,
    learners,
    places,
    recordings,
    reports,
    workshops,
)
from learntogether.console.web import Console, error_page
from learntogether.services.errors import NotFound


def install(app: FastAPI, settings: Settings) -> None:
    """Serve the console from ``app``; its routes stay out of the API's OpenAPI document."""
    app.state.console = Console.create(settings)
    app.state.dashboard_readings = dashboard.Readings()
    # Each module's router uses ConsoleRoute: FastAPI keeps an included route's own class.
    pages = APIRouter(include_in_schema=False)
    for module in (
        auth,
        dashboard,
        # Before curriculum's pages, as their own prefix.
        recordings,
        curriculum,
        cohorts,
        workshops,
        assisted,
        broadcasts,
        reports,
        # Before learners: /learners/places is not a learner's id.
        places,
        learners,
        access,
    ):
        pages.include_router(module.router)
    app.include_router(pages)
    _not_found_as_a_page(app)


def _not_found_as_a_page(app: FastAPI) -> None:
    """A mistyped console address opens the console's "not available" page, not the API's JSON
    problem; the API's own addresses (and any client that does not ask for HTML) keep that."""
    answer_as_the_api = app.exception_handlers[HTTPException]

    async def not_found(request: Request, error: Exception) -> Response:
        if (
            isinstance(error, HTTPException)
            and error.status_code == 404
            and request.method in ("GET", "HEAD")
            and not request.url.path.startswith("/api/")
            and "text/html" in request.headers.get("accept", "")
        ):
            return error_page(request, NotFound("No such page."))
        answered = answer_as_the_api(request, error)
        return answered if isinstance(answered, Response) else await answered

    app.add_exception_handler(HTTPException, not_found)
