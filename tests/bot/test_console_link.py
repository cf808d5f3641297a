"""``/console``: a mediator's one-time sign-in link to the web console, for their own cohorts."""

from __future__ import annotations

import pytest
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.config import Settings
from learntogether.runtime import BotParts, build_app
from learntogether.services import cohorts
from learntogether.services.actors import Actor
from tests.factories import create_cohort, create_learner
from tests.standin import BotAPIStandIn


@pytest.fixture
def bot_settings(bot_settings: Settings) -> Settings:
    return bot_settings.model_copy(update={"public_url": "https://lt.example.org"})


async def test_a_mediator_gets_a_link_that_opens_their_cohorts_only(
    standin: BotAPIStandIn,
    polling_bot: BotParts,
    bot_settings: Settings,
    session_maker: async_sessionmaker[AsyncSession],
) -> None:
    async with session_maker() as session:
        await create_cohort(session, code="SLV1", name="Sliven teachers")
        await create_cohort(session, code="MAD1", name="Madrid mediators")
        await session.commit()
    rosa = await create_learner(session_maker, 7601, first_name="Rosa")
    async with session_maker() as session:
        await cohorts.add_mediator(session, code="SLV1", user_id=rosa.id, actor=Actor.system("t"))
        await session.commit()
    user = standin.add_user(7601, first_name="Rosa", language_code="en")
    await user.send("/console")
    text = (await user.next_message())["text"]
    url = next(word for word in text.split() if word.startswith("https://lt.example.org/signin/"))

    app = build_app(bot_settings, session_maker=session_maker, bot_parts=None)
    async with AsyncClient(
        transport=ASGITransport(app=app), base_url="https://lt.example.org"
    ) as browser:
        path = url.removeprefix("https://lt.example.org")
        assert (await browser.post(path)).status_code == 303
        assert (await browser.get("/cohorts/SLV1")).status_code == 200
        assert (await browser.get("/cohorts/MAD1")).status_code == 403
        assert (await browser.post(path)).status_code == 410


async def test_someone_who_mediates_nothing_gets_no_link(
    standin: BotAPIStandIn, polling_bot: BotParts, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    await create_learner(session_maker, 7602)
    eve = standin.add_user(7602, first_name="Eve", language_code="en")
    await eve.send("/console")
    assert (await eve.next_message())["text"].startswith("This is for mediators.")
