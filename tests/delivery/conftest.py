"""A delivery worker sending to the Bot API stand-in over HTTP, and learners to send to."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.db.models import Broadcast, Cohort, Delivery, User, UserStatus
from learntogether.services import broadcasts
from learntogether.services.actors import Actor
from learntogether.services.broadcasts import (
    BroadcastInfo,
    DeliveryCounts,
    delivery_counts,
)
from learntogether.services.outbox import Recipient
from tests.factories import create_cohort, create_learner
from tests.standin import BotAPIStandIn


async def counts_of(
    session_maker: async_sessionmaker[AsyncSession], broadcast: BroadcastInfo | int
) -> DeliveryCounts:
    broadcast_id = broadcast if isinstance(broadcast, int) else broadcast.id
    async with session_maker() as session:
        return (await delivery_counts(session, [broadcast_id]))[broadcast_id]


async def broadcast_row(
    session_maker: async_sessionmaker[AsyncSession], broadcast: BroadcastInfo
) -> Broadcast:
    async with session_maker() as session:
        row = await session.get(Broadcast, broadcast.id)
        assert row is not None
        return row


async def delivery_of(
    session_maker: async_sessionmaker[AsyncSession], broadcast: BroadcastInfo, telegram_id: int
) -> Delivery:
    async with session_maker() as session:
        row = await session.scalar(
            select(Delivery)
            .join(User, User.id == Delivery.user_id)
            .where(Delivery.broadcast_id == broadcast.id, User.telegram_id == telegram_id)
        )
        assert row is not None, f"no delivery to {telegram_id}"
        return row


async def add_learners(
    session_maker: async_sessionmaker[AsyncSession],
    standin: BotAPIStandIn,
    telegram_ids: list[int],
    *,
    cohort: str | None = None,
    locale: str = "en",
) -> list[User]:
    """Learners who agreed to the notice (in ``cohort``), each with a chat in the stand-in."""
    learners = []
    for telegram_id in telegram_ids:
        standin.add_user(telegram_id, language_code=locale)
        learners.append(
            await create_learner(session_maker, telegram_id, locale=locale, cohort=cohort)
        )
    return learners


async def committed_cohort(
    session_maker: async_sessionmaker[AsyncSession], code: str = "SLV1"
) -> Cohort:
    async with session_maker() as session:
        cohort = await create_cohort(session, code=code, name=f"Cohort {code}")
        await session.commit()
    return cohort


ADMIN = Actor.system("token:test")


async def committed_broadcast(
    session_maker: async_sessionmaker[AsyncSession],
    text: str | dict[str, str] = "Workshop on <b>Friday</b>",
    **options: Any,
) -> BroadcastInfo:
    """A broadcast (to cohort SLV1 unless ``options`` say otherwise), committed for a worker."""
    async with session_maker() as session:
        info = await broadcasts.create_broadcast(
            session, actor=ADMIN, text=text, **{"cohort": "SLV1", **options}
        )
        await session.commit()
    return info


def texts_to(standin: BotAPIStandIn, telegram_id: int) -> list[str]:
    """The texts the bot sent to one user, in order."""
    return [message.get("text", "") for message in standin.users[telegram_id].messages]


def recipient(*, locale: str = "en") -> Recipient:
    """A learner as a claimed row carries them, for tests that need no database."""
    return Recipient(
        id=1,
        telegram_id=1,
        locale=locale,
        reads_locale=None,
        role=None,
        country=None,
        region=None,
        municipality=None,
        status=UserStatus.ACTIVE,
        reminders_enabled=True,
        timezone=None,
        quiet_hours_start=None,
        quiet_hours_end=None,
    )
