"""``create_app()``: the admin API, health and metrics, and the Telegram webhook in webhook mode."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import Response
from fastapi_offline import FastAPIOffline
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether import __version__
from learntogether.api.deps import known_query_parameters, no_nul_characters
from learntogether.api.errors import install_error_handlers
from learntogether.api.middleware import (
    BodySizeLimit,
    RequestMetrics,
    SecurityHeaders,
    UnexpectedErrors,
)
from learntogether.api.pages import Pages
from learntogether.api.ratelimit import ClientRateLimit
from learntogether.api.routes import (
    assisted,
    broadcasts,
    certificates,
    cohorts,
    events,
    exports,
    goals,
    health,
    lessons,
    places,
    recordings,
    reflections,
    reminders,
    reports,
    tokens,
    tracks,
    users,
)
from learntogether.config import Settings
from learntogether.problems import ERROR_RESPONSES

API_PREFIX = "/api/v1"

Hook = Callable[[], Awaitable[None]]


def create_app(
    settings: Settings,
    *,
    session_maker: async_sessionmaker[AsyncSession],
    extra_routers: tuple[APIRouter, ...] = (),
    on_startup: tuple[Hook, ...] = (),
    on_shutdown: tuple[Hook, ...] = (),
) -> FastAPI:
    """Build the API over a session maker the caller owns.

    ``extra_routers`` and the hooks let the runtime add the Telegram webhook without the API knowing
    about the bot.
    """

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            for hook in on_startup:
                await hook()
            for hook in on_shutdown:
                stack.push_async_callback(hook)
            yield

    # Swagger UI and ReDoc from the installed package, not a CDN: /docs works offline.
    app = FastAPIOffline(
        title="To Learn Together admin API",
        version=__version__,
        lifespan=lifespan,
        description="Authoring, cohorts, broadcasts and reports for the To Learn Together platform.",
        # Every error is RFC 9457 problem details; FastAPI would document its own 422 instead.
        responses=ERROR_RESPONSES,
    )
    app.state.settings = settings
    app.state.session_maker = session_maker
    app.state.pages = Pages.create(settings)
    app.state.certificate_limit = ClientRateLimit(
        "certificates", settings.certificate_checks_per_minute, redis_url=settings.redis_url
    )
    install_error_handlers(app)

    api = APIRouter(
        prefix=API_PREFIX,
        dependencies=[Depends(known_query_parameters), Depends(no_nul_characters)],
    )
    api.include_router(tokens.router)
    api.include_router(tracks.router)
    api.include_router(lessons.router)
    api.include_router(certificates.router)
    api.include_router(broadcasts.router)
    api.include_router(cohorts.router)
    api.include_router(events.router)
    api.include_router(assisted.router)
    api.include_router(reminders.router)
    api.include_router(users.router)
    api.include_router(reflections.router)
    api.include_router(recordings.router)
    api.include_router(exports.router)
    api.include_router(reports.router)
    api.include_router(goals.router)
    api.include_router(places.router)
    app.include_router(api)
    app.include_router(health.router)
    for router in extra_routers:
        app.include_router(router)

    registry = CollectorRegistry()

    @app.get(
        "/metrics",
        tags=["operations"],
        summary="Prometheus metrics",
        # The text exposition format, documented as what it is (not FastAPI's default JSON).
        response_class=Response,
        responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    )
    async def metrics() -> Response:
        # Rendering walks every series: off the event loop, so requests go on meanwhile.
        exposition = await asyncio.to_thread(generate_latest, registry)
        return Response(exposition, media_type=CONTENT_TYPE_LATEST)

    app.add_middleware(UnexpectedErrors)
    app.add_middleware(RequestMetrics, registry=registry)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodySizeLimit, max_bytes=settings.api_max_body_bytes)
    return app
