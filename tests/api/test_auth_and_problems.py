"""Bearer auth, roles and RFC 9457 problem details, through the first real routes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.api.app import create_app
from learntogether.config import Settings
from learntogether.db.models import Cohort, TokenRole
from tests.factories import create_api_token

PROBLEM = "application/problem+json"


async def test_missing_token_is_401_problem_with_bearer_challenge(client: AsyncClient) -> None:
    response = await client.get("/api/v1/tokens")
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["www-authenticate"] == "Bearer"
    body = response.json()
    assert body["status"] == 401
    assert body["title"] == "Invalid token"
    assert "Authorization: Bearer" in body["detail"]


async def test_wrong_token_is_401(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    real = await create_api_token(session_maker)
    forged = real[:-4] + ("AAAA" if not real.endswith("AAAA") else "BBBB")
    for bad in (forged, "nonsense", "lt_zzzzzzzz_secret"):
        response = await client.get("/api/v1/tokens", headers={"Authorization": f"Bearer {bad}"})
        assert response.status_code == 401, bad
        assert response.headers["content-type"] == PROBLEM


async def test_revoked_token_is_401(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await create_api_token(session_maker, name="boss")
    victim = await create_api_token(session_maker, name="leaving")
    listed = await client.get("/api/v1/tokens", headers={"Authorization": f"Bearer {admin}"})
    victim_id = next(item["id"] for item in listed.json()["items"] if item["name"] == "leaving")
    revoked = await client.post(
        f"/api/v1/tokens/{victim_id}/revoke", headers={"Authorization": f"Bearer {admin}"}
    )
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    response = await client.get("/api/v1/lessons", headers={"Authorization": f"Bearer {victim}"})
    assert response.status_code == 401


async def test_viewer_cannot_list_tokens(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    viewer = await create_api_token(session_maker, TokenRole.VIEWER)
    response = await client.get("/api/v1/tokens", headers={"Authorization": f"Bearer {viewer}"})
    assert response.status_code == 403
    assert response.headers["content-type"] == PROBLEM
    assert "admin" in response.json()["detail"]


async def test_viewer_can_list_lessons_which_start_empty(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    viewer = await create_api_token(session_maker, TokenRole.VIEWER)
    response = await client.get("/api/v1/lessons", headers={"Authorization": f"Bearer {viewer}"})
    assert response.status_code == 200
    assert response.json() == {"items": [], "total": 0, "limit": 50, "offset": 0}


async def test_invalid_query_is_422_with_field_paths(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await create_api_token(session_maker)
    response = await client.get(
        "/api/v1/tokens",
        params={"limit": 0, "offset": -1},
        headers={"Authorization": f"Bearer {admin}"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    paths = {error["path"] for error in response.json()["errors"]}
    assert paths == {"query.limit", "query.offset"}


async def test_invalid_body_is_422_with_json_paths(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await create_api_token(session_maker)
    response = await client.post(
        "/api/v1/tokens",
        json={"name": "", "role": "owner"},
        headers={"Authorization": f"Bearer {admin}"},
    )
    assert response.status_code == 422
    errors = {error["path"]: error["message"] for error in response.json()["errors"]}
    assert set(errors) == {"$.name", "$.role"}
    assert "admin" in errors["$.role"]


async def test_body_that_is_not_json_is_422_saying_where_it_breaks(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await create_api_token(session_maker)
    response = await client.post(
        "/api/v1/tokens",
        content=b'{"name": "ci", "role": "viewer",}',
        headers={"Authorization": f"Bearer {admin}", "Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "path": "$",
            "message": "not valid JSON at character 32: "
            "Expecting property name enclosed in double quotes",
        }
    ]


async def test_unknown_route_is_404_problem(client: AsyncClient) -> None:
    response = await client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["title"] == "Not Found"


async def test_body_over_the_limit_is_413(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await create_api_token(session_maker)
    response = await client.post(
        "/api/v1/tokens",
        json={"name": "x" * 20000, "role": "admin"},
        headers={"Authorization": f"Bearer {admin}"},
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM


async def test_streamed_body_over_the_limit_is_413(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await create_api_token(session_maker)

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"x" * 4000

    response = await client.post(
        "/api/v1/tokens",
        content=chunks(),
        headers={"Authorization": f"Bearer {admin}", "Content-Type": "application/json"},
    )
    assert response.status_code == 413


class _CommitFails(AsyncSession):
    """A session whose commit fails, as one does when the database refuses a row at the end."""

    async def commit(self) -> None:
        raise OperationalError("COMMIT", {}, Exception("the database went away"))


async def test_a_commit_that_fails_is_an_error_answer_never_a_201(
    settings: Settings,
    session_maker: async_sessionmaker[AsyncSession],
    caplog: pytest.LogCaptureFixture,
) -> None:
    admin = await create_api_token(session_maker, name="office")
    failing = async_sessionmaker[AsyncSession](session_maker.kw["bind"], class_=_CommitFails)
    app = create_app(settings, session_maker=failing)
    # The transport raises what the app lets escape: the error must end in the answer, logged once.
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as http:
        response = await http.post(
            "/api/v1/cohorts", json={"name": "Sliven"}, headers={"Authorization": f"Bearer {admin}"}
        )
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-content-type-options"] == "nosniff"
    logged = [record for record in caplog.records if record.exc_info]
    assert [record.getMessage() for record in logged] == ["unhandled error on POST /api/v1/cohorts"]
    async with session_maker() as session:
        assert await session.scalar(select(func.count()).select_from(Cohort)) == 0
