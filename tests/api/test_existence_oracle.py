"""A mediator cannot learn which other cohorts exist: another's and a missing one answer alike."""

from __future__ import annotations

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.db.models import TokenRole
from tests.factories import create_api_token

MISSING = 999_999


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def theirs(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> dict[str, int]:
    """Cohorts SLV1 (the mediator's) and MAD1 (another's) with a workshop, reminder, broadcast."""
    admin = bearer(await create_api_token(session_maker, name="office"))
    for code in ("SLV1", "MAD1"):
        response = await client.post(
            "/api/v1/cohorts", json={"name": code, "code": code}, headers=admin
        )
        assert response.status_code == 201
    event = await client.post(
        "/api/v1/cohorts/MAD1/events",
        json={"title": "Workshop", "starts_at": "2026-12-10T10:00:00+01:00"},
        headers=admin,
    )
    reminder = await client.post(
        "/api/v1/cohorts/MAD1/reminders", json={"cron": "0 18 * * 1", "text": "Hi"}, headers=admin
    )
    broadcast = await client.post(
        "/api/v1/broadcasts", json={"cohort": "MAD1", "text": "Hi"}, headers=admin
    )
    return {
        "event": event.json()["id"],
        "reminder": reminder.json()["id"],
        "broadcast": broadcast.json()["id"],
    }


@pytest.mark.parametrize(
    ("method", "existing", "missing"),
    [
        ("GET", "/api/v1/cohorts/MAD1", "/api/v1/cohorts/NOPE1"),
        ("GET", "/api/v1/cohorts/MAD1/members", "/api/v1/cohorts/NOPE1/members"),
        ("POST", "/api/v1/cohorts/MAD1/nudge", "/api/v1/cohorts/NOPE1/nudge"),
        ("GET", "/api/v1/events/{event}", f"/api/v1/events/{MISSING}"),
        ("DELETE", "/api/v1/reminders/{reminder}", f"/api/v1/reminders/{MISSING}"),
        ("GET", "/api/v1/broadcasts/{broadcast}", f"/api/v1/broadcasts/{MISSING}"),
        ("GET", "/api/v1/users?cohort=MAD1", "/api/v1/users?cohort=NOPE1"),
        (
            "GET",
            "/api/v1/reports/participation?cohort=MAD1",
            "/api/v1/reports/participation?cohort=NOPE1",
        ),
    ],
)
async def test_another_cohorts_object_and_a_missing_one_answer_a_mediator_alike(
    client: AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    theirs: dict[str, int],
    method: str,
    existing: str,
    missing: str,
) -> None:
    mediator = bearer(
        await create_api_token(session_maker, TokenRole.MEDIATOR, name="med", cohorts=["SLV1"])
    )
    other = await client.request(method, existing.format(**theirs), headers=mediator)
    absent = await client.request(method, missing, headers=mediator)
    assert other.status_code == absent.status_code == 403
    assert other.json()["title"] == absent.json()["title"]


async def test_an_admin_is_still_told_what_does_not_exist(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], theirs: dict[str, int]
) -> None:
    admin = bearer(await create_api_token(session_maker, name="second-office"))
    for path in (
        "/api/v1/cohorts/NOPE1",
        f"/api/v1/events/{MISSING}",
        f"/api/v1/broadcasts/{MISSING}",
    ):
        assert (await client.get(path, headers=admin)).status_code == 404
    unknown = await client.get("/api/v1/users?cohort=NOPE1", headers=admin)
    assert unknown.status_code == 422
