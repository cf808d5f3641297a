"""Input that used to reach the database or the standard library and fail there: each is a 422
naming its field (or a 409), never a 500."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import create_api_token

BEYOND_INT32 = 99_999_999_999
LAST_MOMENT_WEST = "9999-12-31T23:59:59-14:00"


@pytest.fixture
async def admin(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {await create_api_token(session_maker, name='office')}"}
    created = await client.post(
        "/api/v1/cohorts", json={"name": "Sliven", "code": "SLV1"}, headers=headers
    )
    assert created.status_code == 201
    return headers


CASES: list[tuple[str, str, dict[str, Any] | None, str]] = [
    ("GET", "/api/v1/certificates/AB%00CD", None, "path.code"),
    ("GET", "/api/v1/users?q=Ana%00", None, "query.q"),
    ("POST", "/api/v1/cohorts", {"name": "Sli\u0000ven"}, "$.name"),
    ("POST", "/api/v1/broadcasts", {"cohort": "SLV1", "text": {"bg": "a\u0000"}}, "$.text.bg"),
    ("GET", f"/api/v1/users/{BEYOND_INT32}", None, "path.user_id"),
    ("GET", f"/api/v1/events/{BEYOND_INT32}", None, "path.event_id"),
    ("GET", f"/api/v1/broadcasts/{BEYOND_INT32}", None, "path.broadcast_id"),
    ("GET", "/api/v1/users?offset=99999999999999999999", None, "query.offset"),
    ("GET", f"/api/v1/lessons/what-segregation-is?version={BEYOND_INT32}", None, "query.version"),
    ("GET", f"/api/v1/reports/questions?lesson=x&version={BEYOND_INT32}", None, "query.version"),
    ("POST", "/api/v1/cohorts/SLV1/mediators", {"user_id": BEYOND_INT32}, "$.user_id"),
    (
        "POST",
        "/api/v1/broadcasts",
        {"cohort": "SLV1", "text": "x", "send_at": LAST_MOMENT_WEST},
        "$.send_at",
    ),
    (
        "POST",
        "/api/v1/cohorts/SLV1/events",
        {"title": "x", "starts_at": LAST_MOMENT_WEST},
        "$.starts_at",
    ),
    ("GET", "/api/v1/reports/participation?to=9999-12-31", None, "query.to"),
    ("GET", f"/api/v1/exports/xapi?since={LAST_MOMENT_WEST}", None, "query.since"),
    (
        "POST",
        "/api/v1/cohorts/SLV1/reminders",
        {"cron": "0 18 * * 1", "timezone": "A" * 5000, "text": "x"},
        "$.timezone",
    ),
    (
        "POST",
        "/api/v1/cohorts/SLV1/reminders",
        {"cron": "0 " * 5000, "text": "x"},
        "$.cron",
    ),
    ("POST", "/api/v1/tokens", {"name": "n" * 100, "role": "viewer"}, "$.name"),
    ("POST", "/api/v1/cohorts", {"name": "x", "tracks": ["t"] * 101}, "$.tracks"),
    (
        "POST",
        "/api/v1/goals",
        {
            "name": "Teachers",
            "measure": "learners_joined",
            "target": BEYOND_INT32,
            "deadline": "2027-06-30",
        },
        "$.target",
    ),
]


@pytest.mark.parametrize(("method", "path", "body", "field"), CASES)
async def test_input_beyond_what_can_be_stored_is_a_422_naming_the_field(
    client: AsyncClient,
    admin: dict[str, str],
    method: str,
    path: str,
    body: dict[str, Any] | None,
    field: str,
) -> None:
    response = await client.request(method, path, json=body, headers=admin)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [error["path"] for error in response.json()["errors"]]


async def test_two_creates_of_one_cohort_code_at_once_are_a_201_and_a_409(
    client: AsyncClient, admin: dict[str, str]
) -> None:
    body = {"name": "Plovdiv", "code": "PLV1"}
    answers = await asyncio.gather(
        *(client.post("/api/v1/cohorts", json=body, headers=admin) for _ in range(2))
    )
    assert sorted(answer.status_code for answer in answers) == [201, 409]


async def test_a_body_with_thousands_of_bad_items_gets_a_short_problem(
    client: AsyncClient, admin: dict[str, str]
) -> None:
    answers = [{"key": 7} for _ in range(150)]
    response = await client.post(
        "/api/v1/cohorts/SLV1/assisted-quizzes",
        json={"user_id": 1, "lesson": "x", "answers": answers},
        headers=admin,
    )
    assert response.status_code == 422
    body = response.json()
    assert len(body["errors"]) == 50
    assert body["errors_omitted"] == 100
