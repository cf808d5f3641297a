"""GET /api/v1/exports/xapi: who may export what, the stream, its header and its errors."""

from __future__ import annotations

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.api.app import create_app
from learntogether.config import Settings
from learntogether.db.models import TokenRole
from learntogether.services import exports
from learntogether.xapi import Statement
from tests.factories import create_api_token, create_cohort, create_learner

URL = "/api/v1/exports/xapi"
PROBLEM = "application/problem+json"


@pytest.fixture
def settings() -> Settings:
    return Settings(
        _env_file=None,
        api_max_body_bytes=16384,
        pseudonym_secret="an-api-test-pseudonym-key-0123456789",
        public_url="https://lt.example.org",
    )


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _statements(body: str) -> list[Statement]:
    assert body.endswith("\n") or body == ""
    return [Statement.model_validate_json(line) for line in body.splitlines()]


async def test_export_streams_ndjson_statements_with_the_xapi_version_header(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await create_learner(session_maker, 1)
    await create_learner(session_maker, 2)
    viewer = await create_api_token(session_maker, TokenRole.VIEWER)
    response = await client.get(URL, headers=_bearer(viewer))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-ndjson"
    assert response.headers["x-experience-api-version"] == "1.0.3"
    statements = _statements(response.text)
    assert len(statements) == 2
    assert all(s.actor.account.home_page == "https://lt.example.org" for s in statements)


async def test_every_row_comes_exactly_once_across_many_pages(
    client: AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(exports, "PAGE_SIZE", 2)
    for telegram_id in range(1, 8):
        await create_learner(session_maker, telegram_id)
    admin = await create_api_token(session_maker)
    response = await client.get(URL, headers=_bearer(admin))
    ids = [statement.id for statement in _statements(response.text)]
    assert len(ids) == 7
    assert len(set(ids)) == 7


async def test_mediator_exports_only_its_cohorts_rows(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    async with session_maker() as session:
        await create_cohort(session, code="SLV1")
        await create_cohort(session, code="PLV1", name="Plovdiv teachers")
        await session.commit()
    await create_learner(session_maker, 1, cohort="SLV1")
    await create_learner(session_maker, 2, cohort="PLV1")
    mediator = await create_api_token(session_maker, TokenRole.MEDIATOR, cohorts=["SLV1"])
    response = await client.get(URL, headers=_bearer(mediator))
    assert response.status_code == 200
    assert len(_statements(response.text)) == 1


async def test_export_needs_a_token(client: AsyncClient) -> None:
    response = await client.get(URL)
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM


async def test_time_without_zone_is_422_naming_the_parameter(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await create_api_token(session_maker)
    response = await client.get(
        URL, params={"since": "2026-01-01T00:00:00"}, headers=_bearer(admin)
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert [error["path"] for error in response.json()["errors"]] == ["query.since"]


async def test_empty_window_is_422_naming_until(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await create_api_token(session_maker)
    response = await client.get(
        URL,
        params={"since": "2026-02-01T00:00:00Z", "until": "2026-01-01T00:00:00+01:00"},
        headers=_bearer(admin),
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"path": "query.until", "message": "must be later than since"}
    ]


async def test_window_filters_the_statements(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await create_learner(session_maker, 1)
    admin = await create_api_token(session_maker)
    future = await client.get(URL, params={"since": "2999-01-01T00:00:00Z"}, headers=_bearer(admin))
    assert (future.status_code, future.text) == (200, "")
    past = await client.get(URL, params={"until": "2999-01-01T00:00:00Z"}, headers=_bearer(admin))
    assert len(_statements(past.text)) == 1


async def test_without_a_pseudonym_key_the_export_is_409(
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    app = create_app(Settings(_env_file=None), session_maker=session_maker)
    admin = await create_api_token(session_maker)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
        response = await client.get(URL, headers=_bearer(admin))
    assert response.status_code == 409
    assert "LT_PSEUDONYM_SECRET" in response.json()["detail"]
