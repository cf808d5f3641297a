"""The web console for programme staff: HTML pages over the same services as the API.

``install(app, settings)`` adds the pages under ``/`` to the app that serves ``/api/v1``.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

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
from learntogether.console.web import Console


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
