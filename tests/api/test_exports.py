"""GET /api/v1/exports/xapi: who may export what, the stream, its pages, headers and errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs, urlsplit

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


async def _follow(
    client: AsyncClient,
    token: str,
    params: dict[str, str | int],
    between_pages: Callable[[], Awaitable[object]] | None = None,
) -> list[list[Statement]]:
    """Every page from ``params`` on, following each answer's next link."""
    pages: list[list[Statement]] = []
    url: str | None = URL
    query: dict[str, str | int] | None = params
    while url is not None:
        response = await client.get(url, params=query, headers=_bearer(token))
        assert response.status_code == 200, response.text
        pages.append(_statements(response.text))
        assert len(pages) < 50, "the cursor does not move on"
        link = response.links.get("next")
        url, query = (link["url"], None) if link else (None, None)
        if url is not None and between_pages is not None:
            await between_pages()
    return pages


async def test_following_next_links_gives_every_statement_once_in_order_while_learners_join(
    client: AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(exports, "PAGE_SIZE", 2)  # chunks within a page, too
    for telegram_id in range(1, 8):
        await create_learner(session_maker, telegram_id)
    admin = await create_api_token(session_maker)
    everything = _statements((await client.get(URL, headers=_bearer(admin))).text)
    joining = iter(range(100, 200))

    pages = await _follow(
        client,
        admin,
        {"limit": 3},
        between_pages=lambda: create_learner(session_maker, next(joining)),
    )
    assert [len(page) for page in pages] == [3, 3, 1]
    assert [s.id for page in pages for s in page] == [s.id for s in everything]
    # Those who joined meanwhile come with the next export.
    assert len(_statements((await client.get(URL, headers=_bearer(admin))).text)) == 9


async def test_the_next_link_carries_the_limit_and_window_in_its_cursor(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    for telegram_id in range(1, 4):
        await create_learner(session_maker, telegram_id)
    admin = await create_api_token(session_maker)
    first = await client.get(
        URL, params={"limit": 2, "since": "2000-01-01T00:00:00Z"}, headers=_bearer(admin)
    )
    following = first.links["next"]["url"]
    assert following.startswith(f"{URL}?")
    assert set(parse_qs(urlsplit(following).query)) == {"cursor", "limit"}
    last = await client.get(following, headers=_bearer(admin))
    assert len(_statements(last.text)) == 1
    assert "link" not in last.headers


async def test_openapi_documents_a_thousand_by_default_and_ten_thousand_at_most(
    client: AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()
    parameters = {p["name"]: p for p in document["paths"][URL]["get"]["parameters"]}
    assert parameters["limit"]["schema"]["default"] == 1000
    assert parameters["limit"]["schema"]["maximum"] == 10_000
    assert set(parameters) == {"since", "until", "cursor", "limit"}


@pytest.mark.parametrize("limit", ["0", "10001", "-1", "99999999999999999999"])
async def test_a_limit_beyond_the_cap_is_422_naming_limit(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], limit: str
) -> None:
    admin = await create_api_token(session_maker)
    response = await client.get(URL, params={"limit": limit}, headers=_bearer(admin))
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert [error["path"] for error in response.json()["errors"]] == ["query.limit"]


async def test_the_largest_limit_is_accepted(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await create_learner(session_maker, 1)
    admin = await create_api_token(session_maker)
    response = await client.get(URL, params={"limit": 10_000}, headers=_bearer(admin))
    assert response.status_code == 200
    assert len(_statements(response.text)) == 1


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "WzAsOTk5OTksbnVsbCxudWxsXQ.AAAAAAAAAAAAAAAAAAAAAA",  # [0,99999,null,null], unsigned
        "x" * 600,
        "%%%.%%%",
    ],
)
async def test_a_malformed_or_forged_cursor_is_422_naming_cursor(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], cursor: str
) -> None:
    admin = await create_api_token(session_maker)
    response = await client.get(URL, params={"cursor": cursor}, headers=_bearer(admin))
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert [error["path"] for error in response.json()["errors"]] == ["query.cursor"]


async def test_a_cursor_with_since_is_422_naming_since(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    for telegram_id in range(1, 4):
        await create_learner(session_maker, telegram_id)
    admin = await create_api_token(session_maker)
    first = await client.get(URL, params={"limit": 1}, headers=_bearer(admin))
    cursor = parse_qs(urlsplit(first.links["next"]["url"]).query)["cursor"][0]
    response = await client.get(
        URL, params={"cursor": cursor, "since": "2026-01-01T00:00:00Z"}, headers=_bearer(admin)
    )
    assert response.status_code == 422
    assert [error["path"] for error in response.json()["errors"]] == ["query.since"]


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


async def test_paging_keeps_a_mediator_to_its_cohorts_and_a_viewer_sees_all(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    async with session_maker() as session:
        await create_cohort(session, code="SLV1")
        await create_cohort(session, code="PLV1", name="Plovdiv teachers")
        await session.commit()
    for telegram_id in range(1, 7):
        await create_learner(session_maker, telegram_id, cohort=("SLV1", "PLV1")[telegram_id % 2])
    mediator = await create_api_token(session_maker, TokenRole.MEDIATOR, cohorts=["SLV1"])
    viewer = await create_api_token(session_maker, TokenRole.VIEWER)
    mine = await _follow(client, mediator, {"limit": 1})
    assert [len(page) for page in mine] == [1, 1, 1]
    every = await _follow(client, viewer, {"limit": 4})
    assert [len(page) for page in every] == [4, 2]
    assert {s.id for page in mine for s in page} < {s.id for page in every for s in page}


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
