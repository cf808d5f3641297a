"""Workshop check-in by deep link (or its QR code), end to end through the Bot API stand-in."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.db.base import utcnow
from learntogether.db.models import Attendance, AttendanceMethod
from learntogether.runtime import BotParts
from learntogether.services import events
from learntogether.services.actors import Actor
from learntogether.services.events import EventInput
from tests.factories import create_cohort, create_learner, eventually
from tests.standin import BotAPIStandIn


async def workshop(
    session_maker: async_sessionmaker[AsyncSession], *, starts_in: timedelta = timedelta(0)
) -> str:
    async with session_maker() as session:
        await create_cohort(session, code="SLV1")
        event = await events.create_event(
            session,
            cohort_code="SLV1",
            data=EventInput(title="Mixed classrooms <workshop>", starts_at=utcnow() + starts_in),
            actor=Actor.system("test"),
        )
        await session.commit()
    return event.check_in_payload


async def attendance(session_maker: async_sessionmaker[AsyncSession]) -> list[Attendance]:
    async with session_maker() as session:
        return list(await session.scalars(select(Attendance)))


async def test_learner_checks_in_by_link_once(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    payload = await workshop(session_maker)
    learner = await create_learner(session_maker, 7301)
    ana = standin.add_user(7301, first_name="Ana", language_code="en")
    await ana.send(f"/start {payload}")
    checked = await ana.next_message()
    assert checked["text"] == (
        "You are checked in to Mixed classrooms <workshop>. Thank you for coming!\n"
        "You are in the group Sliven teachers now too: its mediators see your progress and can "
        "write to you."
    )
    await ana.send(f"/start {payload}")
    again = await ana.next_message()
    assert again["text"] == "You are already checked in to Mixed classrooms <workshop>."
    rows = await eventually(lambda: attendance(session_maker))
    assert [(row.user_id, row.method) for row in rows] == [(learner.id, AttendanceMethod.DEEP_LINK)]


async def test_newcomer_is_checked_in_after_agreeing_to_the_notice(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    payload = await workshop(session_maker)
    vera = standin.add_user(7302, first_name="Vera", language_code="en")
    await vera.send(f"/start {payload}")
    await vera.next_message()
    await vera.press("✓ English")
    await vera.wait_for(lambda m: m["text"] == "Which of these describes you best?")
    await vera.press("Parent")
    await vera.wait_for(lambda m: m["text"].startswith("Your privacy"))
    assert await attendance(session_maker) == []
    await vera.press("I agree")
    await vera.wait_for(lambda m: m["text"].startswith("You are checked in to Mixed classrooms"))
    assert len(await eventually(lambda: attendance(session_maker))) == 1


async def test_check_in_before_it_opens_or_with_a_wrong_code_says_so(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    payload = await workshop(session_maker, starts_in=timedelta(days=3))
    await create_learner(session_maker, 7303)
    ivo = standin.add_user(7303, first_name="Ivo", language_code="en")
    for link in (payload, "e-nope"):
        await ivo.send(f"/start {link}")
        refused = await ivo.next_message()
        assert refused["text"].startswith("This check-in link is not valid")
    assert await attendance(session_maker) == []
