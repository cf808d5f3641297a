"""Workshops and assisted mode through the API: check-in links, QR codes, records on someone's behalf."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.config import Settings
from learntogether.db.models import Activity, Role, TokenRole, Verb
from tests.factories import create_api_token, create_learner, import_sample_curriculum

STARTS = "2026-12-10T10:00:00+02:00"


@pytest.fixture
def settings() -> Settings:
    return Settings(_env_file=None, bot_username="ltg_bot")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def admin(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> dict[str, str]:
    headers = bearer(await create_api_token(session_maker))
    for code in ("SLV1", "MAD1"):
        response = await client.post(
            "/api/v1/cohorts", json={"name": code, "code": code, "locale": "bg"}, headers=headers
        )
        assert response.status_code == 201
    return headers


async def create_event(
    client: AsyncClient, headers: dict[str, str], cohort: str = "SLV1"
) -> dict[str, Any]:
    body = {"title": "Mixed classrooms workshop", "starts_at": STARTS, "location": "School 3"}
    response = await client.post(f"/api/v1/cohorts/{cohort}/events", json=body, headers=headers)
    assert response.status_code == 201, response.text
    event: dict[str, Any] = response.json()
    return event


async def test_workshop_has_a_check_in_link_and_a_qr_code(
    client: AsyncClient, admin: dict[str, str]
) -> None:
    event = await create_event(client, admin)
    assert event["check_in_link"] == f"https://t.me/ltg_bot?start=e-{event['code']}"
    assert (event["attended"], event["members"]) == (0, 0)
    qr = await client.get(f"/api/v1/events/{event['id']}/qr.png", headers=admin)
    assert qr.status_code == 200
    assert qr.headers["content-type"] == "image/png"
    assert qr.content.startswith(b"\x89PNG\r\n\x1a\n")
    listed = await client.get("/api/v1/cohorts/SLV1/events", headers=admin)
    assert [item["id"] for item in listed.json()["items"]] == [event["id"]]


async def test_bad_workshop_fields_are_422_with_paths(
    client: AsyncClient, admin: dict[str, str]
) -> None:
    body = {"title": " ", "starts_at": "2026-12-10T10:00:00", "room": 3}
    response = await client.post("/api/v1/cohorts/SLV1/events", json=body, headers=admin)
    assert response.status_code == 422
    paths = {error["path"] for error in response.json()["errors"]}
    assert paths == {"$.title", "$.starts_at", "$.room"}


async def test_mediator_checks_a_member_in_once_and_it_counts_as_assisted(
    client: AsyncClient, admin: dict[str, str], session_maker: async_sessionmaker[AsyncSession]
) -> None:
    event = await create_event(client, admin)
    member = await create_learner(session_maker, 9201, cohort="SLV1", role=Role.PARENT)
    outsider = await create_learner(session_maker, 9202, cohort="MAD1")
    mediator = bearer(await create_api_token(session_maker, TokenRole.MEDIATOR, cohorts=["SLV1"]))
    url = f"/api/v1/events/{event['id']}/attendance"
    first = await client.post(url, json={"user_id": member.id}, headers=mediator)
    assert (first.status_code, first.json()) == (201, {"checked_in": True})
    again = await client.post(url, json={"user_id": member.id}, headers=mediator)
    assert (again.status_code, again.json()) == (200, {"checked_in": False})
    refused = await client.post(url, json={"user_id": outsider.id}, headers=mediator)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["path"] == "$.user_id"
    shown = (await client.get(f"/api/v1/events/{event['id']}", headers=mediator)).json()
    assert (shown["attended"], shown["assisted"], shown["members"]) == (1, 1, 1)
    assert [(a["user_id"], a["assisted"]) for a in shown["attendance"]] == [(member.id, True)]
    async with session_maker() as session:
        rows = list(await session.scalars(select(Activity).where(Activity.verb == Verb.ATTENDED)))
    assert [(row.user_id, row.assisted, row.data) for row in rows] == [
        (member.id, True, {"event_id": event["id"]})
    ]


async def test_mediator_cannot_reach_another_cohorts_workshop(
    client: AsyncClient, admin: dict[str, str], session_maker: async_sessionmaker[AsyncSession]
) -> None:
    event = await create_event(client, admin, cohort="MAD1")
    mediator = bearer(await create_api_token(session_maker, TokenRole.MEDIATOR, cohorts=["SLV1"]))
    assert (await client.get(f"/api/v1/events/{event['id']}", headers=mediator)).status_code == 403
    body = {"title": "x", "starts_at": STARTS}
    created = await client.post("/api/v1/cohorts/MAD1/events", json=body, headers=mediator)
    assert created.status_code == 403
    viewer = bearer(await create_api_token(session_maker, TokenRole.VIEWER))
    assert (await client.get(f"/api/v1/events/{event['id']}", headers=viewer)).status_code == 403
    assert (await client.get("/api/v1/events/999999", headers=admin)).status_code == 404


async def test_assisted_participant_and_quiz_are_flagged_assisted(
    client: AsyncClient,
    admin: dict[str, str],
    session_maker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    await import_sample_curriculum(session_maker, tmp_path / "lessons")
    added = await client.post(
        "/api/v1/cohorts/SLV1/participants", json={"first_name": "Zlatka"}, headers=admin
    )
    assert added.status_code == 201
    person = added.json()
    assert person["role"] == "parent"
    body = {
        "user_id": person["user_id"],
        "lesson": "what-segregation-is",
        "answers": [{"key": "dh-year", "choice": [0]}, {"key": "harm", "choice": [1]}],
    }
    result = await client.post("/api/v1/cohorts/SLV1/assisted-quizzes", json=body, headers=admin)
    assert result.status_code == 201, result.text
    assert result.json() == {
        "correct": 1,
        "scored": 2,
        "percent": 50,
        "passed": True,
        "certificate": True,
    }
    async with session_maker() as session:
        rows = list(
            await session.scalars(
                select(Activity).where(Activity.user_id == person["user_id"]).order_by(Activity.id)
            )
        )
    assert [row.verb for row in rows] == [
        Verb.JOINED,
        Verb.STARTED,
        Verb.ANSWERED,
        Verb.ANSWERED,
        Verb.COMPLETED,
        Verb.PASSED,
        Verb.CERTIFIED,
    ]
    assert all(row.assisted for row in rows if row.verb is not Verb.CERTIFIED)


async def test_assisted_answers_that_do_not_fit_the_quiz_are_422_and_nothing_is_kept(
    client: AsyncClient,
    admin: dict[str, str],
    session_maker: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    await import_sample_curriculum(session_maker, tmp_path / "lessons")
    person = (
        await client.post(
            "/api/v1/cohorts/SLV1/participants", json={"first_name": "Zlatka"}, headers=admin
        )
    ).json()
    url = "/api/v1/cohorts/SLV1/assisted-quizzes"
    base = {"user_id": person["user_id"], "lesson": "what-segregation-is"}
    missing = await client.post(
        url, json={**base, "answers": [{"key": "nope", "choice": [0]}]}, headers=admin
    )
    assert missing.status_code == 422
    assert {e["path"] for e in missing.json()["errors"]} == {"$.answers[0].key", "$.answers"}
    wrong = await client.post(
        url,
        json={
            **base,
            "answers": [{"key": "dh-year", "choice": [7]}, {"key": "harm", "choice": [0]}],
        },
        headers=admin,
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["path"] == "$.answers[0].choice"
    unknown = await client.post(url, json={**base, "lesson": "nope", "answers": []}, headers=admin)
    assert unknown.json()["errors"][0]["path"] == "$.lesson"
    async with session_maker() as session:
        verbs = list(
            await session.scalars(
                select(Activity.verb).where(Activity.user_id == person["user_id"])
            )
        )
    assert verbs == [Verb.JOINED]
