"""The places resource: spellings in use, merging two (admins only), field errors, reports."""

from __future__ import annotations

import pytest
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.db.models import AuditLog, TokenRole, User, Verb
from tests.factories import create_api_token
from tests.report_builders import add_cohort, add_learner, at, record


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def admin(session_maker: async_sessionmaker[AsyncSession]) -> dict[str, str]:
    async with session_maker() as session:
        sliven = await add_cohort(session, "SLV1", region="Sliven", municipality="Sliven")
        first = await add_learner(session, cohort=sliven)
        await record(session, first, Verb.JOINED, at(3), cohort=sliven)
        for _ in range(2):
            stray = await add_learner(session)
            stray.municipality = "Slivén"
            await record(session, stray, Verb.JOINED, at(4))
        await session.commit()
    return _bearer(await create_api_token(session_maker, name="office"))


async def _by_place(client: AsyncClient, headers: dict[str, str]) -> list[tuple[str, int]]:
    response = await client.get(
        "/api/v1/reports/participation",
        params={"group_by": "municipality", "from": "2026-01-01", "to": "2026-01-31"},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    return [(row["municipality"], row["joined"]) for row in response.json()["rows"]]


async def test_places_list_spellings_and_a_merge_regroups_the_report(
    client: AsyncClient, admin: dict[str, str], session_maker: async_sessionmaker[AsyncSession]
) -> None:
    listed = await client.get("/api/v1/places", headers=admin)
    assert listed.status_code == 200, listed.text
    assert listed.json()["total"] == 2
    assert [
        (item["name"], item["key"], item["learners"], item["cohorts"])
        for item in listed.json()["items"]
    ] == [("Sliven", "sliven", 1, 1), ("Slivén", "sliven", 2, 0)]
    assert await _by_place(client, admin) == [("Sliven", 1), ("Slivén", 2)]

    merged = await client.post(
        "/api/v1/places/merge", json={"from": "Slivén", "into": "Sliven"}, headers=admin
    )

    assert merged.status_code == 200, merged.text
    body = merged.json()
    assert (body["from"], body["into"], body["learners"], body["activities"]) == (
        "Slivén",
        "Sliven",
        2,
        2,
    )
    assert await _by_place(client, admin) == [("Sliven", 3)]
    async with session_maker() as session:
        places = (await session.scalars(select(User.municipality).distinct())).all()
        assert places == ["Sliven"]
        audit = (await session.scalars(select(AuditLog).where(AuditLog.entity == "place"))).one()
        assert (audit.actor, audit.before) == ("token:office", {"municipality": "Slivén"})


@pytest.mark.parametrize(
    ("body", "paths"),
    [
        ({"from": "Nowhere", "into": "Sliven"}, ["$.from"]),
        ({"from": "Sliven", "into": "Sliven"}, ["$.into"]),
        ({"from": "  ", "into": "Sliven"}, ["$.from"]),
        ({"from": "Slivén"}, ["$.into"]),
        ({"from": "Slivén", "into": "x" * 129}, ["$.into"]),
        ({"from": "Slivén", "into": "Sliven", "also": 1}, ["$.also"]),
    ],
)
async def test_bad_merges_are_422_naming_the_field_and_change_nothing(
    client: AsyncClient,
    admin: dict[str, str],
    session_maker: async_sessionmaker[AsyncSession],
    body: dict[str, object],
    paths: list[str],
) -> None:
    response = await client.post("/api/v1/places/merge", json=body, headers=admin)
    assert response.status_code == 422, response.text
    assert [error["path"] for error in response.json()["errors"]] == paths
    async with session_maker() as session:
        kept = await session.scalars(select(User.municipality).where(User.municipality == "Slivén"))
        assert len(kept.all()) == 2


@pytest.mark.parametrize("role", [TokenRole.VIEWER, TokenRole.MEDIATOR])
async def test_only_admins_merge_places(
    client: AsyncClient,
    admin: dict[str, str],
    session_maker: async_sessionmaker[AsyncSession],
    role: TokenRole,
) -> None:
    token = _bearer(
        await create_api_token(
            session_maker, role, cohorts=["SLV1"] if role is TokenRole.MEDIATOR else None
        )
    )
    response = await client.post(
        "/api/v1/places/merge", json={"from": "Slivén", "into": "Sliven"}, headers=token
    )
    assert response.status_code == 403, response.text
    assert await _by_place(client, admin) == [("Sliven", 1), ("Slivén", 2)]


async def test_viewers_read_places_and_mediators_do_not(
    client: AsyncClient, admin: dict[str, str], session_maker: async_sessionmaker[AsyncSession]
) -> None:
    viewer = _bearer(await create_api_token(session_maker, TokenRole.VIEWER))
    mediator = _bearer(await create_api_token(session_maker, TokenRole.MEDIATOR, cohorts=["SLV1"]))
    assert (await client.get("/api/v1/places", headers=viewer)).status_code == 200
    assert (await client.get("/api/v1/places", headers=mediator)).status_code == 403
