"""The places page (admins): spellings in use, a merge checked, confirmed, then done."""

from __future__ import annotations

import pytest
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.db.models import AuditLog, TokenRole, User
from tests.console.conftest import Programme, sign_in
from tests.factories import create_learner


@pytest.fixture
async def stray(session_maker: async_sessionmaker[AsyncSession], programme: Programme) -> int:
    """A learner who wrote Sliven their own way (before matching), and one who wrote markup."""
    learner = await create_learner(session_maker, 1003, first_name="Kalin")
    odd = await create_learner(session_maker, 1004, first_name="Odd")
    async with session_maker() as session:
        (await session.get(User, learner.id)).municipality = "Slivén"  # type: ignore[union-attr]
        (await session.get(User, odd.id)).municipality = "<b>Nowhere</b>"  # type: ignore[union-attr]
        await session.commit()
    return learner.id


async def _municipality(session_maker: async_sessionmaker[AsyncSession], user_id: int) -> str:
    async with session_maker() as session:
        learner = await session.get(User, user_id)
        assert learner is not None and learner.municipality is not None
        return learner.municipality


async def test_a_merge_is_confirmed_before_it_rewrites_the_spelling(
    client: AsyncClient, session_maker: async_sessionmaker[AsyncSession], stray: int
) -> None:
    csrf = await sign_in(client, session_maker, name="Ana")
    listing = await client.get("/learners/places")
    assert listing.status_code == 200
    assert "<td>Slivén</td>" in listing.text and "<td>Sliven</td>" in listing.text
    assert "&lt;b&gt;Nowhere&lt;/b&gt;" in listing.text and "<b>Nowhere" not in listing.text
    assert 'href="/learners/places"' in (await client.get("/learners")).text

    asked = await client.post(
        "/learners/places/merge", data={"csrf": csrf, "from": "Slivén", "into": "Sliven"}
    )
    assert asked.status_code == 200
    assert "Merge Slivén into Sliven?" in asked.text
    assert 'name="confirmed" value="1"' in asked.text
    assert await _municipality(session_maker, stray) == "Slivén"

    done = await client.post(
        "/learners/places/merge",
        data={"csrf": csrf, "from": "Slivén", "into": "Sliven", "confirmed": "1"},
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/learners/places?merged=1"
    assert await _municipality(session_maker, stray) == "Sliven"
    after = await client.get(done.headers["location"])
    assert "The spellings are merged." in after.text and "<td>Slivén</td>" not in after.text
    async with session_maker() as session:
        audit = await session.scalar(select(AuditLog).where(AuditLog.entity == "place"))
    assert audit is not None and audit.actor == "staff:Ana"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"from": "Nowhere", "into": "Sliven"}, "from"),
        ({"from": "", "into": "Sliven"}, "from"),
        ({"from": "Slivén", "into": "Slivén"}, "into"),
        ({"from": "Slivén", "into": "x" * 129}, "into"),
    ],
)
async def test_merge_problems_are_shown_beside_their_fields(
    client: AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    stray: int,
    data: dict[str, str],
    field: str,
) -> None:
    csrf = await sign_in(client, session_maker)
    answer = await client.post(
        "/learners/places/merge", data={"csrf": csrf, "confirmed": "1", **data}
    )
    assert answer.status_code == 422
    assert f'id="{field}-errors"' in answer.text
    assert await _municipality(session_maker, stray) == "Slivén"


@pytest.mark.parametrize("role", [TokenRole.VIEWER, TokenRole.MEDIATOR])
async def test_only_admins_open_and_merge_places(
    client: AsyncClient,
    session_maker: async_sessionmaker[AsyncSession],
    stray: int,
    role: TokenRole,
) -> None:
    csrf = await sign_in(
        client, session_maker, role, cohorts=["SLV1"] if role is TokenRole.MEDIATOR else None
    )
    assert (await client.get("/learners/places")).status_code == 403
    merge = await client.post(
        "/learners/places/merge",
        data={"csrf": csrf, "from": "Slivén", "into": "Sliven", "confirmed": "1"},
    )
    assert merge.status_code == 403
    assert await _municipality(session_maker, stray) == "Slivén"
