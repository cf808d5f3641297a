"""Tracks through the API."""

from __future__ import annotations

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.content.samples import TRACK
from tests.factories import create_api_token


async def test_put_then_get_and_list_a_track(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    headers = {"Authorization": f"Bearer {await create_api_token(session_maker)}"}
    created = await client.put(
        "/api/v1/tracks/demo", json={**TRACK, "slug": "demo"}, headers=headers
    )
    assert created.status_code == 201
    updated = await client.put(
        "/api/v1/tracks/demo", json={**TRACK, "slug": "demo", "position": 2}, headers=headers
    )
    assert updated.status_code == 200
    fetched = await client.get("/api/v1/tracks/demo", headers=headers)
    assert (fetched.json()["position"], fetched.json()["lessons"]) == (2, 0)
    listed = await client.get("/api/v1/tracks", headers=headers)
    assert [item["slug"] for item in listed.json()["items"]] == ["demo"]


async def test_invalid_track_is_422_and_unknown_is_404(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    headers = {"Authorization": f"Bearer {await create_api_token(session_maker)}"}
    bad = {**TRACK, "slug": "demo", "locales": ["bg"]}
    response = await client.put("/api/v1/tracks/demo", json=bad, headers=headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "$.locales"
    assert (await client.get("/api/v1/tracks/nope", headers=headers)).status_code == 404
