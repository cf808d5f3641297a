"""Cohorts through the API: creation with an invite link, scoping, members and who is behind."""

from __future__ import annotations

from datetime import timedelta

import pytest
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.config import Settings
from learntogether.db.base import utcnow
from learntogether.db.models import (
    AuditLog,
    Broadcast,
    BroadcastKind,
    LessonProgress,
    LessonVersion,
    ProgressStatus,
    TokenRole,
    User,
)
from learntogether.services import help as help_desk
from tests.factories import create_api_token, create_learner
from tests.report_builders import add_track


@pytest.fixture
def settings() -> Settings:
    return Settings(_env_file=None, bot_username="@ltg_bot")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def admin(session_maker: async_sessionmaker[AsyncSession]) -> dict[str, str]:
    return bearer(await create_api_token(session_maker))


async def test_created_cohort_has_its_code_and_invite_link(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    body = {"name": "Sliven teachers", "code": "SLV1", "country": "BG", "region": "Sliven"}
    response = await client.post("/api/v1/cohorts", json=body, headers=await admin(session_maker))
    assert response.status_code == 201
    created = response.json()
    assert (created["code"], created["invite_link"]) == (
        "SLV1",
        "https://t.me/ltg_bot?start=c-SLV1",
    )
    assert (created["members"], created["nudge_after_days"]) == (0, 7)


async def test_a_code_is_drawn_when_none_is_given(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    response = await client.post(
        "/api/v1/cohorts", json={"name": "Parents"}, headers=await admin(session_maker)
    )
    assert response.status_code == 201
    code = response.json()["code"]
    assert len(code) == 6 and code.isalnum()
    assert response.json()["invite_link"].endswith(f"?start=c-{code}")


async def test_taken_code_is_409_whatever_the_case(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    headers = await admin(session_maker)
    await client.post("/api/v1/cohorts", json={"name": "A", "code": "SLV1"}, headers=headers)
    again = await client.post(
        "/api/v1/cohorts", json={"name": "B", "code": "slv1"}, headers=headers
    )
    assert again.status_code == 409
    assert "SLV1" in again.json()["detail"] or "slv1" in again.json()["detail"]


async def test_bad_cohort_fields_are_422_with_their_paths(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    headers = await admin(session_maker)
    body = {"name": "", "code": "no spaces", "country": "bg", "locale": "xx", "extra": 1}
    response = await client.post("/api/v1/cohorts", json=body, headers=headers)
    assert response.status_code == 422
    paths = {error["path"] for error in response.json()["errors"]}
    assert paths == {"$.name", "$.code", "$.country", "$.locale", "$.extra"}
    unknown = await client.post(
        "/api/v1/cohorts", json={"name": "A", "tracks": ["nope"]}, headers=headers
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["path"] == "$.tracks[0]"


async def test_mediator_sees_only_its_cohorts_and_viewer_none(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    headers = await admin(session_maker)
    for code in ("SLV1", "MAD1"):
        await client.post("/api/v1/cohorts", json={"name": code, "code": code}, headers=headers)
    mediator = bearer(await create_api_token(session_maker, TokenRole.MEDIATOR, cohorts=["SLV1"]))
    listed = await client.get("/api/v1/cohorts", headers=mediator)
    assert [item["code"] for item in listed.json()["items"]] == ["SLV1"]
    assert (await client.get("/api/v1/cohorts/SLV1", headers=mediator)).status_code == 200
    refused = await client.get("/api/v1/cohorts/MAD1/members", headers=mediator)
    assert refused.status_code == 403
    viewer = bearer(await create_api_token(session_maker, TokenRole.VIEWER))
    assert (await client.get("/api/v1/cohorts", headers=viewer)).status_code == 403
    created = await client.post("/api/v1/cohorts", json={"name": "X"}, headers=mediator)
    assert created.status_code == 403
    assert (await client.get("/api/v1/cohorts/NONE", headers=headers)).status_code == 404


async def test_members_count_their_own_completed_lessons_only(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    headers = await admin(session_maker)
    await client.post("/api/v1/cohorts", json={"name": "Sliven", "code": "SLV1"}, headers=headers)
    ana = await create_learner(session_maker, 9111, cohort="SLV1", first_name="Ana")
    await create_learner(session_maker, 9112, cohort="SLV1", first_name="Ivo")
    outsider = await create_learner(session_maker, 9113, first_name="Eva")
    async with session_maker() as session:
        _track, lessons = await add_track(session, "mixed", lessons=3)
        for user_id, done, started in ((ana.id, 2, 1), (outsider.id, 3, 0)):
            for index, lesson in enumerate(lessons[: done + started]):
                version_id = await session.scalar(
                    select(LessonVersion.id).where(LessonVersion.lesson_id == lesson.id)
                )
                assert version_id is not None
                session.add(
                    LessonProgress(
                        user_id=user_id,
                        lesson_id=lesson.id,
                        lesson_version_id=version_id,
                        status=ProgressStatus.COMPLETED
                        if index < done
                        else ProgressStatus.IN_PROGRESS,
                    )
                )
        await session.commit()
    members = (await client.get("/api/v1/cohorts/SLV1/members", headers=headers)).json()["items"]
    assert [(m["name"], m["lessons_completed"]) for m in members] == [("Ana", 2), ("Ivo", 0)]
    page = await client.get("/api/v1/cohorts/SLV1/members?limit=1&offset=1", headers=headers)
    assert [(m["name"], m["lessons_completed"]) for m in page.json()["items"]] == [("Ivo", 0)]
    assert page.json()["total"] == 2


async def test_members_show_progress_and_who_is_behind(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    headers = await admin(session_maker)
    await client.post("/api/v1/cohorts", json={"name": "Sliven", "code": "SLV1"}, headers=headers)
    active = await create_learner(session_maker, 9101, cohort="SLV1", first_name="Ana")
    quiet = await create_learner(session_maker, 9102, cohort="SLV1", first_name="Ivo")
    async with session_maker() as session:
        learner = await session.get(User, quiet.id)
        assert learner is not None
        learner.last_active_at = utcnow() - timedelta(days=8)
        await session.commit()
    members = (await client.get("/api/v1/cohorts/SLV1/members", headers=headers)).json()["items"]
    assert [(m["name"], m["behind"], m["lessons_completed"]) for m in members] == [
        ("Ana", False, 0),
        ("Ivo", True, 0),
    ]
    behind = await client.get("/api/v1/cohorts/SLV1/members?behind=true", headers=headers)
    assert [member["user_id"] for member in behind.json()["items"]] == [quiet.id]
    assert active.id != quiet.id
    cohort = (await client.get("/api/v1/cohorts/SLV1", headers=headers)).json()
    assert cohort["members"] == 2


async def test_admin_makes_a_learner_mediator_of_a_cohort(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    headers = await admin(session_maker)
    await client.post("/api/v1/cohorts", json={"name": "Sliven", "code": "SLV1"}, headers=headers)
    mediator = await create_learner(session_maker, 9103, first_name="Rosa")
    url = "/api/v1/cohorts/SLV1/mediators"
    assert (
        await client.post(url, json={"user_id": mediator.id}, headers=headers)
    ).status_code == 204
    # Twice is fine.
    assert (
        await client.post(url, json={"user_id": mediator.id}, headers=headers)
    ).status_code == 204
    missing = await client.post(url, json={"user_id": 999999}, headers=headers)
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["path"] == "$.user_id"
    listed = await client.get(url, headers=headers)
    assert listed.json() == [{"user_id": mediator.id, "name": "Rosa", "username": None}]
    assert (await client.delete(f"{url}/{mediator.id}", headers=headers)).status_code == 204
    assert (await client.get(url, headers=headers)).json() == []
    # Removing someone who does not mediate it: nothing to remove.
    assert (await client.delete(f"{url}/{mediator.id}", headers=headers)).status_code == 404


async def test_admin_removes_a_mediator_and_the_learner_is_told_each_time(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    headers = await admin(session_maker)
    await client.post("/api/v1/cohorts", json={"name": "Sliven", "code": "SLV1"}, headers=headers)
    mediator = await create_learner(session_maker, 9104, first_name="Rosa")
    url = "/api/v1/cohorts/SLV1/mediators"
    await client.post(url, json={"user_id": mediator.id}, headers=headers)
    removed = await client.delete(f"{url}/{mediator.id}", headers=headers)
    assert removed.status_code == 204
    # Removing someone who is not (any more) a mediator says so, and changes nothing.
    assert (await client.delete(f"{url}/{mediator.id}", headers=headers)).status_code == 404
    assert (await client.delete(f"{url}/0", headers=headers)).status_code == 422
    assert (
        await client.delete("/api/v1/cohorts/NOPE/mediators/1", headers=headers)
    ).status_code == 404
    async with session_maker() as session:
        notices = list(
            await session.scalars(
                select(Broadcast).where(Broadcast.kind == BroadcastKind.MEDIATOR_ROLE)
            )
        )
        actions = list(
            await session.scalars(
                select(AuditLog.action).where(AuditLog.entity == "cohort").order_by(AuditLog.id)
            )
        )
    assert len(notices) == 2
    assert actions[-2:] == ["add_mediator", "remove_mediator"]


async def test_invite_link_is_null_while_the_bot_is_unknown(
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    from httpx import ASGITransport

    from learntogether.api.app import create_app

    app = create_app(Settings(_env_file=None), session_maker=session_maker)
    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as http:
        response = await http.post(
            "/api/v1/cohorts", json={"name": "A", "code": "A1"}, headers=await admin(session_maker)
        )
    assert response.status_code == 201
    assert (response.json()["invite_payload"], response.json()["invite_link"]) == ("c-A1", None)


async def test_members_come_a_page_at_a_time_with_their_total(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    headers = await admin(session_maker)
    await client.post("/api/v1/cohorts", json={"name": "Sliven", "code": "SLV1"}, headers=headers)
    for telegram_id in range(9401, 9406):
        await create_learner(session_maker, telegram_id, cohort="SLV1")
    page = await client.get(
        "/api/v1/cohorts/SLV1/members", params={"limit": 2, "offset": 2}, headers=headers
    )
    body = page.json()
    assert (body["total"], body["limit"], body["offset"], len(body["items"])) == (5, 2, 2, 2)
    too_many = await client.get("/api/v1/cohorts/SLV1/members?limit=501", headers=headers)
    assert too_many.status_code == 422


async def test_a_members_questions_to_mediators_are_for_mediators_not_viewers(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    headers = await admin(session_maker)
    await client.post("/api/v1/cohorts", json={"name": "Sliven", "code": "SLV1"}, headers=headers)
    ana = await create_learner(session_maker, 9301, cohort="SLV1", first_name="Ana")
    rosa = await create_learner(session_maker, 9302, first_name="Rosa")
    added = await client.post(
        "/api/v1/cohorts/SLV1/mediators", json={"user_id": rosa.id}, headers=headers
    )
    assert added.status_code == 204
    async with session_maker() as session:
        learner = await session.get(User, ana.id)
        mediator = await session.get(User, rosa.id)
        assert learner is not None and mediator is not None
        question = await help_desk.ask_mediators(session, learner=learner, text="When?")
        await help_desk.answer(session, mediator=mediator, help_id=question.help_id, text="Friday")
        await session.commit()
    url = f"/api/v1/cohorts/SLV1/members/{ana.id}/questions"
    mediator_token = bearer(
        await create_api_token(session_maker, TokenRole.MEDIATOR, cohorts=["SLV1"])
    )
    shown = (await client.get(url, headers=mediator_token)).json()
    assert [(e["from_learner"], e["author"], e["text"]) for e in shown["items"]] == [
        (True, None, "When?"),
        (False, "Rosa", "Friday"),
    ]
    assert shown["total"] == 2
    viewer = bearer(await create_api_token(session_maker, TokenRole.VIEWER))
    assert (await client.get(url, headers=viewer)).status_code == 403
    await client.post("/api/v1/cohorts", json={"name": "Madrid", "code": "MAD1"}, headers=headers)
    other = bearer(
        await create_api_token(session_maker, TokenRole.MEDIATOR, name="madrid", cohorts=["MAD1"])
    )
    assert (await client.get(url, headers=other)).status_code == 403
