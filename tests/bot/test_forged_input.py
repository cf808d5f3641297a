"""Forged, out-of-range and malformed buttons and payloads: a polite answer each, no traceback."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.runtime import BotParts
from learntogether.services import cohorts
from learntogether.services.actors import Actor
from tests.factories import create_cohort, create_learner, import_sample_curriculum
from tests.standin import BotAPIStandIn

FORGED = [
    "ol:99999999999",  # beyond the id column's range
    "ol:-1",
    "ol:abc",
    "st:1:1:99999",
    "an:2147483647:0:0",
    "tg:1:0:99999999999",
    "rl:wizard",  # no such role
    "lg:xx",  # no such language
    "ra:s:99999",  # no such minute of the day
    "ra:x:60",  # no such flow
    "rh:o:24",  # no such hour
    "qh:25:3",  # no such hour
    "tz:s:ES:Not/AZone",
    "tz:o:ES:Europe/Paris",  # not a zone of Spain
    "zc:s:ZZ",  # no such country
    "zc:o:es",
    "se:evil",
    "co:event:NOPE",  # a cohort that does not exist
    "co:cast:NOPE",
    "co:zap:SLV1",
    "co:view:" + "A" * 40,
    "bw:later",
    "ct:",
    "garbage",
    ":",
    "\u0000",
    "x" * 64,
]


@pytest.fixture
async def mediator(session_maker: async_sessionmaker[AsyncSession], tmp_path: Path) -> int:
    """Rosa (7701): a registered learner and the mediator of SLV1."""
    await import_sample_curriculum(session_maker, tmp_path / "lessons")
    async with session_maker() as session:
        await create_cohort(session, code="SLV1")
        await session.commit()
    rosa = await create_learner(session_maker, 7701, cohort="SLV1", first_name="Rosa")
    async with session_maker() as session:
        await cohorts.add_mediator(session, code="SLV1", user_id=rosa.id, actor=Actor.system("t"))
        await session.commit()
    return 7701


async def test_forged_buttons_get_a_polite_answer_and_leave_no_traceback(
    standin: BotAPIStandIn,
    polling_bot: BotParts,
    mediator: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    rosa = standin.add_user(mediator, first_name="Rosa", language_code="en")
    await rosa.send("/lessons")
    await rosa.next_message()
    with caplog.at_level(logging.INFO):
        for data in FORGED:
            await rosa.press_forged(data)
        for _ in range(200):
            if not standin.unanswered_callback_queries():
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
    assert standin.unanswered_callback_queries() == []
    troubles = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert troubles == [], [r.getMessage() for r in troubles]
    # No dialogue opened for a cohort that does not exist: plain text is not taken as a title.
    texts = [message.get("text", "") for message in rosa.messages]
    assert not any("workshop called" in text or "message for the group" in text for text in texts)
    await rosa.send("Workshop of nobody")
    await rosa.wait_for(lambda message: "I did not understand that" in message.get("text", ""))


async def test_a_start_payload_no_link_could_carry_is_ignored(
    standin: BotAPIStandIn, polling_bot: BotParts, caplog: pytest.LogCaptureFixture
) -> None:
    eve = standin.add_user(7702, first_name="Eve", language_code="en")
    with caplog.at_level(logging.INFO):
        await eve.send("/start c-\u0000' OR 1=1 --")
        reply = await eve.next_message()
    assert reply["text"].startswith("Hello, Eve!")
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
