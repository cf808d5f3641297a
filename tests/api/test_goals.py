"""The goals resource: admins write, viewers and mediators read, field errors, progress."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.db.base import utcnow
from learntogether.db.models import ApiToken, AuditLog, Cohort, Lesson, Role, TokenRole, Verb
from tests.factories import create_api_token
from tests.report_builders import add_cohort, add_learner, add_track, record


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def admin(session_maker: async_sessionmaker[AsyncSession]) -> dict[str, str]:
    async with session_maker() as session:
        await add_cohort(session, "SLV1", region="Sliven", municipality="Sliven")
        await add_cohort(session, "SOF1", region="Sofia-city", municipality="Sofia")
        await add_track(session, "mixed", lessons=1)
        await session.commit()
    return _bearer(await create_api_token(session_maker, name="office"))


def _goal(**changes: Any) -> dict[str, Any]:
    today = utcnow().date()
    goal: dict[str, Any] = {
        "name": "Sliven teachers finish the mixed classroom",
        "measure": "tracks_completed",
        "track": "mixed",
        "filters": {"region": "Sliven", "role": "teacher"},
        "target": 2,
        "starts_on": str(today - timedelta(days=6)),
        "deadline": str(today + timedelta(days=7)),
    }
    goal.update(changes)
    return goal


async def test_create_read_and_watch_progress_move(
    client: AsyncClient, admin: dict[str, str], session_maker: async_sessionmaker[AsyncSession]
) -> None:
    created = await client.post("/api/v1/goals", json=_goal(), headers=admin)
    assert created.status_code == 201, created.text
    body = created.json()
    assert {key: body[key] for key in ("name", "measure", "track", "filters", "target")} == {
        "name": "Sliven teachers finish the mixed classroom",
        "measure": "tracks_completed",
        "track": "mixed",
        "filters": {"region": "Sliven", "role": "teacher"},
        "target": 2,
    }
    assert body["progress"] == {
        "as_of": str(utcnow().date()),
        "value": 0,
        "share": 0.0,
        "achieved_per_week": 0.0,
        "required_per_week": 2.0,
        "on_track": False,
    }
    async with session_maker() as session:
        sliven = await session.scalar(select(Cohort).where(Cohort.code == "SLV1"))
        lesson = await session.scalar(select(Lesson).where(Lesson.slug == "mixed-1"))
        assert sliven is not None and lesson is not None
        teacher = await add_learner(session, cohort=sliven)
        await record(session, teacher, Verb.COMPLETED, utcnow(), cohort=sliven, lesson=lesson)
        await session.commit()
    read = await client.get(f"/api/v1/goals/{body['id']}", headers=admin)
    assert (read.json()["progress"]["value"], read.json()["progress"]["share"]) == (1, 0.5)
    listed = await client.get("/api/v1/goals", headers=admin)
    assert (listed.json()["total"], listed.json()["items"][0]["progress"]["value"]) == (1, 1)


@pytest.mark.parametrize(
    ("changes", "paths"),
    [
        ({"measure": "happiness"}, ["$.measure"]),
        ({"target": 0}, ["$.target"]),
        ({"deadline": "2020-01-01"}, ["$.deadline"]),
        ({"track": "nope"}, ["$.track"]),
        ({"measure": "attended"}, ["$.track"]),
        ({"filters": {"cohort": "NOPE"}}, ["$.filters.cohort"]),
        ({"filters": {"role": "astronaut"}}, ["$.filters.role"]),
        ({"filters": {"ethnicity": "any"}}, ["$.filters.ethnicity"]),
    ],
)
async def test_bad_goals_are_422_with_field_paths(
    client: AsyncClient, admin: dict[str, str], changes: dict[str, Any], paths: list[str]
) -> None:
    response = await client.post("/api/v1/goals", json=_goal(**changes), headers=admin)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [error["path"] for error in response.json()["errors"]] == paths


async def test_update_and_delete(client: AsyncClient, admin: dict[str, str]) -> None:
    goal_id = (await client.post("/api/v1/goals", json=_goal(), headers=admin)).json()["id"]
    changed = await client.put(
        f"/api/v1/goals/{goal_id}", json=_goal(target=5, name="Five"), headers=admin
    )
    assert changed.status_code == 200
    assert (changed.json()["name"], changed.json()["target"]) == ("Five", 5)
    bad = await client.put(f"/api/v1/goals/{goal_id}", json=_goal(target=-1), headers=admin)
    assert [error["path"] for error in bad.json()["errors"]] == ["$.target"]
    deleted = await client.delete(f"/api/v1/goals/{goal_id}", headers=admin)
    assert deleted.status_code == 204
    assert (await client.get(f"/api/v1/goals/{goal_id}", headers=admin)).status_code == 404
    assert (await client.delete(f"/api/v1/goals/{goal_id}", headers=admin)).status_code == 404


async def test_viewers_read_but_cannot_write(
    client: AsyncClient, admin: dict[str, str], session_maker: async_sessionmaker[AsyncSession]
) -> None:
    goal_id = (await client.post("/api/v1/goals", json=_goal(), headers=admin)).json()["id"]
    viewer = _bearer(await create_api_token(session_maker, TokenRole.VIEWER, name="funder"))
    assert (await client.get("/api/v1/goals", headers=viewer)).json()["total"] == 1
    assert (await client.get(f"/api/v1/goals/{goal_id}", headers=viewer)).status_code == 200
    for response in (
        await client.post("/api/v1/goals", json=_goal(), headers=viewer),
        await client.put(f"/api/v1/goals/{goal_id}", json=_goal(), headers=viewer),
        await client.delete(f"/api/v1/goals/{goal_id}", headers=viewer),
    ):
        assert response.status_code == 403
        assert response.headers["content-type"] == "application/problem+json"
    assert (await client.get("/api/v1/goals", headers=viewer)).json()["total"] == 1


async def test_mediators_read_their_cohorts_goals_only(
    client: AsyncClient, admin: dict[str, str], session_maker: async_sessionmaker[AsyncSession]
) -> None:
    ours = await client.post(
        "/api/v1/goals", json=_goal(name="Ours", filters={"cohort": "SLV1"}), headers=admin
    )
    theirs = await client.post(
        "/api/v1/goals", json=_goal(name="Theirs", filters={"cohort": "SOF1"}), headers=admin
    )
    mediator = _bearer(
        await create_api_token(session_maker, TokenRole.MEDIATOR, name="m", cohorts=["SLV1"])
    )
    listed = await client.get("/api/v1/goals", headers=mediator)
    assert [item["name"] for item in listed.json()["items"]] == ["Ours"]
    assert (
        await client.get(f"/api/v1/goals/{ours.json()['id']}", headers=mediator)
    ).status_code == 200
    hidden = await client.get(f"/api/v1/goals/{theirs.json()['id']}", headers=mediator)
    assert hidden.status_code == 404
    write = await client.post("/api/v1/goals", json=_goal(), headers=mediator)
    assert write.status_code == 403


async def test_a_role_filter_counts_that_role_only(
    client: AsyncClient, admin: dict[str, str], session_maker: async_sessionmaker[AsyncSession]
) -> None:
    async with session_maker() as session:
        for role in (Role.TEACHER, Role.PARENT, Role.PARENT):
            learner = await add_learner(session, role=role)
            await record(session, learner, Verb.JOINED, utcnow())
        await session.commit()
    goal = _goal(measure="learners_joined", track=None, filters={"role": "parent"})
    created = await client.post("/api/v1/goals", json=goal, headers=admin)
    assert created.json()["progress"]["value"] == 2


async def test_every_goal_change_names_the_acting_token_in_the_audit_log(
    client: AsyncClient, admin: dict[str, str], session_maker: async_sessionmaker[AsyncSession]
) -> None:
    created = (await client.post("/api/v1/goals", json=_goal(), headers=admin)).json()
    changed = await client.put(
        f"/api/v1/goals/{created['id']}", json=_goal(target=3), headers=admin
    )
    assert changed.status_code == 200, changed.text
    assert (await client.delete(f"/api/v1/goals/{created['id']}", headers=admin)).status_code == 204
    async with session_maker() as session:
        office = await session.scalar(select(ApiToken.id).where(ApiToken.name == "office"))
        entries = list(
            await session.scalars(
                select(AuditLog).where(AuditLog.entity == "goal").order_by(AuditLog.id)
            )
        )
    assert [(entry.action, entry.actor, entry.actor_token_id) for entry in entries] == [
        ("create", "token:office", office),
        ("update", "token:office", office),
        ("delete", "token:office", office),
    ]
