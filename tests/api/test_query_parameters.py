"""A query parameter a route does not read is refused, naming it and what the route takes."""

from __future__ import annotations

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import create_api_token


async def _admin(session_maker: async_sessionmaker[AsyncSession]) -> dict[str, str]:
    return {"Authorization": f"Bearer {await create_api_token(session_maker)}"}


async def test_a_misspelt_report_filter_is_422_not_ignored(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await _admin(session_maker)
    params = {"start": "2026-05-01", "group_by": "region", "regoin": "Sliven"}
    response = await client.get("/api/v1/reports/participation", params=params, headers=admin)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["detail"] == "unknown query parameter regoin, start"
    assert [error["path"] for error in problem["errors"]] == ["query.regoin", "query.start"]
    message = problem["errors"][0]["message"]
    assert message.startswith("unknown parameter; this takes ")
    takes = set(message.removeprefix("unknown parameter; this takes ").split(", "))
    assert {"from", "to", "tz", "group_by", "region", "period"} <= takes


async def test_known_parameters_and_none_at_all_are_fine(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await _admin(session_maker)
    for params in ({}, {"from": "2026-05-01", "to": "2026-05-31", "group_by": "region"}):
        response = await client.get("/api/v1/reports/participation", params=params, headers=admin)
        assert response.status_code == 200, response.text
    assert (
        await client.get("/api/v1/tokens", params={"limit": 5}, headers=admin)
    ).status_code == 200


async def test_a_route_without_query_parameters_says_so(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await _admin(session_maker)
    response = await client.get("/api/v1/goals/1", params={"expand": "all"}, headers=admin)
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"path": "query.expand", "message": "unknown parameter; this takes no query parameters"}
    ]
