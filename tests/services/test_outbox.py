"""The outbox on a real database: who gets a row, what is due, leases, and claims that race."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.db.base import utcnow
from learntogether.db.models import (
    BroadcastKind,
    Delivery,
    DeliveryStatus,
    Membership,
    Role,
    User,
)
from learntogether.services import broadcasts, learners, outbox
from learntogether.services.actors import Actor
from learntogether.services.broadcasts import BroadcastInfo
from tests.conftest import TestDatabase
from tests.factories import create_cohort, create_learner

ADMIN = Actor.system("token:test")
LEASE = timedelta(seconds=30)


async def _learner(session: AsyncSession, telegram_id: int, cohort: str = "SLV1") -> User:
    return await learners.register(
        session,
        telegram_id=telegram_id,
        first_name="Learner",
        locale="en",
        role=Role.TEACHER,
        cohort_code=cohort,
    )


async def _broadcast(session: AsyncSession, **options: Any) -> BroadcastInfo:
    return await broadcasts.create_broadcast(
        session, actor=ADMIN, text="Hello", **{"cohort": "SLV1", **options}
    )


async def _recipients(session: AsyncSession, info: BroadcastInfo) -> set[int | None]:
    rows = await session.scalars(
        select(User.telegram_id)
        .join(Delivery, Delivery.user_id == User.id)
        .where(Delivery.broadcast_id == info.id)
    )
    return set(rows)


async def test_each_learner_gets_one_row_however_many_named_cohorts_they_are_in(
    session: AsyncSession,
) -> None:
    await create_cohort(session, code="SLV1")
    await create_cohort(session, code="SLV2")
    both = await _learner(session, 1, "SLV1")
    await learners.join_cohort(session, learner=both, code="SLV2")
    await _learner(session, 2, "SLV2")

    info = await _broadcast(session, cohort=None, cohorts=["SLV1", "SLV2"])

    assert await _recipients(session, info) == {1, 2}
    assert info.counts.total == 2


async def test_only_reachable_learners_who_agreed_get_a_row(session: AsyncSession) -> None:
    cohort = await create_cohort(session)
    for telegram_id in (1, 2, 3):
        await _learner(session, telegram_id)
    await outbox.mark_blocked(session, telegram_id=2)
    erased = await learners.find_learner(session, 3)
    assert erased is not None
    await learners.erase(session, learner=erased)
    never_agreed = User(telegram_id=4, first_name="Not yet")
    session.add(never_agreed)
    await session.flush()
    session.add(Membership(cohort_id=cohort.id, user_id=never_agreed.id))
    await session.flush()

    info = await _broadcast(session)

    assert await _recipients(session, info) == {1}


async def test_everyone_means_every_reachable_learner(session: AsyncSession) -> None:
    await create_cohort(session, code="SLV1")
    await create_cohort(session, code="SLV2")
    await _learner(session, 1, "SLV1")
    await _learner(session, 2, "SLV2")
    loner = await learners.register(
        session, telegram_id=3, first_name="No cohort", locale="en", role=Role.PARENT
    )
    assert loner.id

    info = await _broadcast(session, cohort=None, all_learners=True)

    assert await _recipients(session, info) == {1, 2, 3}


async def test_claim_leases_due_rows_once_until_the_lease_runs_out(session: AsyncSession) -> None:
    await create_cohort(session)
    for telegram_id in (1, 2, 3):
        await _learner(session, telegram_id)
    info = await _broadcast(session)
    now = utcnow()

    first = await outbox.claim(session, limit=2, lease=LEASE, now=now)
    second = await outbox.claim(session, limit=10, lease=LEASE, now=now)
    nothing = await outbox.claim(session, limit=10, lease=LEASE, now=now)
    after_lease = await outbox.claim(session, limit=10, lease=LEASE, now=now + LEASE * 2)

    assert [row.learner.telegram_id for row in first] == [1, 2]
    assert [row.learner.telegram_id for row in second] == [3]
    assert nothing == []
    assert sorted(row.id for row in after_lease) == sorted(row.id for row in first + second)
    assert {row.attempts for row in after_lease} == {2}
    assert all(row.broadcast_id == info.id and row.text == {"en": "Hello"} for row in first)


async def test_rows_of_a_scheduled_broadcast_are_not_due_before_its_time(
    session: AsyncSession,
) -> None:
    await create_cohort(session)
    await _learner(session, 1)
    send_at = utcnow() + timedelta(hours=1)
    await _broadcast(session, send_at=send_at)

    assert await outbox.claim(session, limit=10, lease=LEASE, now=utcnow()) == []
    due = await outbox.claim(session, limit=10, lease=LEASE, now=send_at)
    assert len(due) == 1


async def test_rows_of_a_cancelled_broadcast_are_never_claimed(session: AsyncSession) -> None:
    await create_cohort(session)
    await _learner(session, 1)
    await _learner(session, 2)
    info = await _broadcast(session)
    (leased,) = await outbox.claim(session, limit=1, lease=LEASE, now=utcnow())
    await broadcasts.cancel_broadcast(session, broadcast_id=info.id, actor=ADMIN)

    later = utcnow() + LEASE * 2
    assert await outbox.claim(session, limit=10, lease=LEASE, now=later) == []
    await outbox.sweep(session, now=later)

    statuses = set(
        await session.scalars(select(Delivery.status).where(Delivery.broadcast_id == info.id))
    )
    assert statuses == {DeliveryStatus.CANCELLED}
    assert leased.learner.telegram_id == 1


async def test_reminder_for_chosen_learners_leaves_out_those_without_reminders(
    session: AsyncSession,
) -> None:
    await create_cohort(session)
    keen = await _learner(session, 1)
    resting = await _learner(session, 2)
    await learners.set_reminders(session, learner=resting, enabled=False)
    other = await _learner(session, 3)

    info = await broadcasts.create_for_learners(
        session, kind=BroadcastKind.REMINDER, user_ids=[keen.id, resting.id], actor=ADMIN
    )

    assert await _recipients(session, info) == {1}
    assert other.id not in {keen.id, resting.id}


async def test_concurrent_claims_on_postgresql_skip_each_others_rows(
    database: TestDatabase, session_maker: async_sessionmaker[AsyncSession]
) -> None:
    if database.backend != "postgresql":
        pytest.skip("SQLite has one writer at a time: claims cannot overlap there")
    async with session_maker() as session:
        await create_cohort(session)
        await session.commit()
    for telegram_id in range(1, 7):
        await create_learner(session_maker, telegram_id, cohort="SLV1")
    async with session_maker() as session:
        await _broadcast(session)
        await session.commit()
    now = utcnow()
    async with session_maker() as session:
        # The broadcast's first claim marks it as sending; the race is about the rows after it.
        assert len(await outbox.claim(session, limit=1, lease=LEASE, now=now)) == 1
        await session.commit()

    async with session_maker() as first, session_maker() as second:
        mine = await outbox.claim(first, limit=3, lease=LEASE, now=now)
        # While the first claim still holds its row locks:
        theirs = await outbox.claim(second, limit=3, lease=LEASE, now=now)
        await first.commit()
        await second.commit()

    assert len(mine) == 3 and len(theirs) == 2
    assert not {row.id for row in mine} & {row.id for row in theirs}
