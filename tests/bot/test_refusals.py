"""A service's refusal reaches a mediator in the bot in their language, end to end through the
stand-in (the API says the same refusal in English)."""

from __future__ import annotations

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.db.base import utcnow
from learntogether.db.models import Cohort
from learntogether.runtime import BotParts
from learntogether.services import cohorts
from learntogether.services.actors import Actor
from tests.factories import create_cohort, create_learner
from tests.standin import BotAPIStandIn


@pytest.fixture
async def bulgarian_mediator(session_maker: async_sessionmaker[AsyncSession]) -> None:
    """Cohort SLV1 with Rosa (7601), a mediator who reads Bulgarian, and a member, Ana."""
    async with session_maker() as session:
        await create_cohort(session, code="SLV1", name="Сливен")
        await session.commit()
    rosa = await create_learner(session_maker, 7601, first_name="Rosa", locale="bg")
    await create_learner(session_maker, 7602, cohort="SLV1", first_name="Ana", locale="bg")
    async with session_maker() as session:
        await cohorts.add_mediator(session, code="SLV1", user_id=rosa.id, actor=Actor.system("t"))
        await session.commit()


@pytest.mark.usefixtures("bulgarian_mediator")
async def test_a_too_long_broadcast_is_refused_in_the_mediators_language(
    standin: BotAPIStandIn, polling_bot: BotParts
) -> None:
    rosa = standin.add_user(7601, first_name="Rosa", language_code="bg")
    await rosa.send("/broadcast")
    await rosa.next_message()
    await rosa.send("x" * 4100)
    refused = await rosa.wait_for(lambda m: m["text"].startswith("Това съобщение не може"))
    assert refused["text"] == (
        "Това съобщение не може да бъде изпратено: дължината на текста е 4100 знака; "
        "ограничението на Telegram е 4096. Напишете го отново."
    )


@pytest.mark.usefixtures("bulgarian_mediator")
async def test_a_broadcast_to_a_cohort_archived_meanwhile_is_refused_in_bulgarian(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    rosa = standin.add_user(7601, first_name="Rosa", language_code="bg")
    await rosa.send("/broadcast")
    await rosa.next_message()
    await rosa.send("Среща в петък")
    await rosa.wait_for(lambda m: m["text"] == "Кога да бъде изпратено?")
    async with session_maker() as session:
        await session.execute(update(Cohort).values(archived_at=utcnow()))
        await session.commit()
    await rosa.press("Изпращане сега")
    refused = await rosa.wait_for(lambda m: m["text"].startswith("Това съобщение не може"))
    assert "Съобщението посочва групи, които не могат да го получат." in refused["text"]
