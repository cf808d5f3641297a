"""Dependencies: the database session per request, the acting caller, pagination."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.config import Settings
from learntogether.db.engine import unit_of_work
from learntogether.db.models import TokenRole
from learntogether.deeplinks import resolve_bot_username
from learntogether.services import tokens
from learntogether.services.actors import Actor
from learntogether.services.errors import FieldProblem, InvalidInput, InvalidToken

_bearer = HTTPBearer(
    auto_error=False, description="An API token from `learntogether token create`."
)


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One unit of work per request: commit on success, roll back on any error.

    Used with ``scope="function"``: the commit happens before the response is sent, so a commit
    that fails is an error answer, never a 201 for something that was not stored.
    """
    session_maker: async_sessionmaker[AsyncSession] = request.app.state.session_maker
    async with unit_of_work(session_maker) as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


def get_session_maker(request: Request) -> async_sessionmaker[AsyncSession]:
    """For responses streamed after the request's own session is gone: one session per page."""
    session_maker: async_sessionmaker[AsyncSession] = request.app.state.session_maker
    return session_maker


SessionMakerDep = Annotated[async_sessionmaker[AsyncSession], Depends(get_session_maker)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_bot_username(request: Request, settings: SettingsDep) -> str | None:
    """The bot's username for invite links, asked once and remembered."""
    username: str | None = getattr(request.app.state, "bot_username", None)
    if username is None:
        username = await resolve_bot_username(settings)
        request.app.state.bot_username = username
    return username


BotUsernameDep = Annotated[str | None, Depends(get_bot_username)]


async def get_actor(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """The caller behind the bearer token, built once per request."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise InvalidToken("Send an API token as 'Authorization: Bearer <token>'.")
    return await tokens.authenticate(session, bearer=credentials.credentials)


def require_role(*roles: TokenRole) -> Callable[..., Coroutine[Any, Any, Actor]]:
    """A dependency that lets through admins and the roles named, and refuses the rest with 403."""

    async def dependency(actor: Annotated[Actor, Depends(get_actor)]) -> Actor:
        actor.check_role(*roles)
        return actor

    return dependency


AdminDep = Annotated[Actor, Depends(require_role())]
ReaderDep = Annotated[Actor, Depends(require_role(TokenRole.MEDIATOR, TokenRole.VIEWER))]
# Admins and mediators; a mediator's reach is narrowed to its cohorts by the services.
MediatorDep = Annotated[Actor, Depends(require_role(TokenRole.MEDIATOR))]


class PageParams(BaseModel):
    limit: int
    offset: int


def page_params(
    limit: Annotated[int, Query(ge=1, le=500, description="How many items at most")] = 50,
    offset: Annotated[int, Query(ge=0, le=2**62, description="How many items to skip")] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


PageDep = Annotated[PageParams, Depends(page_params)]


def _query_names(dependant: Dependant) -> frozenset[str]:
    """The query parameters a route reads, its dependencies' included."""
    names = {field.alias for field in dependant.query_params}
    for dependency in dependant.dependencies:
        names |= _query_names(dependency)
    return frozenset(names)


def known_query_parameters(request: Request) -> None:
    """Refuse a query parameter the route does not read: a misspelt filter (``start`` for
    ``from``) would otherwise be ignored, and a report quietly count everything."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    known = _query_names(route.dependant)
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        takes = ", ".join(sorted(known)) if known else "no query parameters"
        raise InvalidInput(
            f"unknown query parameter {', '.join(unknown)}",
            [
                FieldProblem(f"query.{name}", f"unknown parameter; this takes {takes}")
                for name in unknown
            ],
        )


def _nul_paths(value: Any, path: str) -> Iterator[str]:
    """The JSON paths of strings (keys included) holding a NUL character."""
    if isinstance(value, str):
        if "\x00" in value:
            yield path
    elif isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                yield path
            yield from _nul_paths(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _nul_paths(item, f"{path}[{index}]")


def _is_audio(request: Request) -> bool:
    return request.headers.get("content-type", "").startswith("audio/")


async def no_nul_characters(request: Request) -> None:
    """Refuse a NUL character in the path, the query or a JSON body: no text column stores one
    (PostgreSQL refuses it), and no name, code or lesson needs one. Audio bodies are bytes, not
    text: they hold NULs and are checked as audio."""
    found = [f"path.{name}" for name, value in request.path_params.items() if "\x00" in str(value)]
    found += [
        f"query.{name}"
        for name, value in request.query_params.multi_items()
        if "\x00" in name or "\x00" in value
    ]
    body = b"" if _is_audio(request) else await request.body()
    if b"\\u0000" in body or b"\x00" in body:
        try:
            found += _nul_paths(json.loads(body), "$")
        except ValueError:
            found.append("$")
    if found:
        raise InvalidInput(
            "The request holds a NUL character.",
            [FieldProblem(path, "must not contain a NUL character") for path in found],
        )
