"""/api/v1/recordings: the review queue of mediators' recordings is the admins' (the bot's side,
recording, approval and the recorder told, is tested end to end in tests/bot/test_recording.py)."""

from __future__ import annotations

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.db.models import TokenRole
from tests.factories import create_api_token, create_cohort

URL = "/api/v1/recordings"


async def test_mediators_and_viewers_are_refused_the_recordings(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    async with session_maker() as session:
        await create_cohort(session, code="SLV1")
        await session.commit()
    mediator = await create_api_token(session_maker, TokenRole.MEDIATOR, cohorts=["SLV1"])
    viewer = await create_api_token(session_maker, TokenRole.VIEWER)
    for token in (mediator, viewer):
        answer = await client.get(URL, headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 403
        assert answer.headers["content-type"] == "application/problem+json"


async def test_an_unknown_recording_or_status_is_a_clear_problem(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    headers = {"Authorization": f"Bearer {await create_api_token(session_maker)}"}
    missing = await client.post(f"{URL}/999/approve", json={}, headers=headers)
    assert missing.status_code == 404
    assert missing.json()["detail"] == "No recording with id 999."
    wrong = await client.get(URL, params={"status": "lost"}, headers=headers)
    assert wrong.status_code == 422
    assert "query.status" in wrong.text
    long_comment = await client.post(
        f"{URL}/1/reject", json={"comment": "x" * 2001}, headers=headers
    )
    assert long_comment.status_code == 422
    assert "comment" in long_comment.text
    empty = (await client.get(URL, headers=headers)).json()
    assert (empty["items"], empty["total"]) == ([], 0)
