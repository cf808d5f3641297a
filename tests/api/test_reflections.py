"""GET /api/v1/reflections: the same rules as the console's pages, in the page shape."""

from __future__ import annotations

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.db.models import Cohort, TokenRole
from tests.factories import create_api_token, create_learner
from tests.report_builders import reflect

URL = "/api/v1/reflections"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _two_cohorts(session_maker: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    async with session_maker() as session:
        for code in ("SLV1", "PLV1"):
            session.add(Cohort(code=code, name=code, country="BG"))
        await session.commit()
    sliven = await create_learner(session_maker, 111, cohort="SLV1", first_name="Zlatka")
    plovdiv = await create_learner(session_maker, 222, cohort="PLV1", first_name="Asen")
    await reflect(session_maker, sliven.id, "Seat them together.")
    await reflect(session_maker, plovdiv.id, "Invite the parents.")
    return sliven.id, plovdiv.id


async def test_an_admin_lists_reflections_with_titles(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await _two_cohorts(session_maker)
    token = await create_api_token(session_maker)
    answer = await client.get(URL, params={"lesson": "kinds"}, headers=_bearer(token))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["total"] == 2 and body["limit"] == 50
    assert {item["text"] for item in body["items"]} == {
        "Seat them together.",
        "Invite the parents.",
    }
    assert body["items"][0]["question_text"] == "What will you try?"
    assert body["items"][0]["lesson_title"] == "Every kind"


async def test_a_mediator_reads_their_cohort_only(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    _sliven, plovdiv = await _two_cohorts(session_maker)
    token = await create_api_token(session_maker, TokenRole.MEDIATOR, cohorts=["SLV1"])
    mine = (await client.get(URL, headers=_bearer(token))).json()
    assert [item["learner_name"] for item in mine["items"]] == ["Zlatka"]
    other = await client.get(URL, params={"user": plovdiv}, headers=_bearer(token))
    assert other.status_code == 404
    assert (
        await client.get(URL, params={"cohort": "PLV1"}, headers=_bearer(token))
    ).status_code == 403


async def test_a_viewer_is_refused(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await _two_cohorts(session_maker)
    token = await create_api_token(session_maker, TokenRole.VIEWER)
    assert (await client.get(URL, headers=_bearer(token))).status_code == 403


async def test_an_unknown_lesson_is_named_in_the_problem(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    token = await create_api_token(session_maker)
    answer = await client.get(URL, params={"lesson": "nope"}, headers=_bearer(token))
    assert answer.status_code == 422
    assert [error["path"] for error in answer.json()["errors"]] == ["query.lesson"]
