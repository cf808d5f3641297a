"""The database itself keeps the rules that matter: uniqueness, references, enums, bounds."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from itertools import count

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.db.models import (
    Broadcast,
    Delivery,
    Goal,
    GoalMeasure,
    Membership,
    User,
    UserStatus,
)

_telegram_ids = count(10_000)


async def create_user(session: AsyncSession, **fields: object) -> User:
    user = User(telegram_id=next(_telegram_ids), first_name="Ana", **fields)
    session.add(user)
    await session.flush()
    return user


async def create_broadcast(session: AsyncSession) -> Broadcast:
    broadcast = Broadcast(text={"en": "Tomorrow's workshop starts at 17:00."})
    session.add(broadcast)
    await session.flush()
    return broadcast


async def test_second_delivery_to_one_learner_in_one_broadcast_is_refused(
    session: AsyncSession,
) -> None:
    user = await create_user(session)
    broadcast = await create_broadcast(session)
    session.add(Delivery(broadcast_id=broadcast.id, user_id=user.id))
    await session.flush()

    session.add(Delivery(broadcast_id=broadcast.id, user_id=user.id))
    with pytest.raises(IntegrityError):
        await session.flush()


async def test_membership_of_a_missing_learner_is_refused(session: AsyncSession) -> None:
    session.add(Membership(cohort_id=999_999, user_id=999_999))

    with pytest.raises(IntegrityError):
        await session.flush()


async def test_database_refuses_an_unknown_role(session: AsyncSession) -> None:
    with pytest.raises(IntegrityError, match="ck_users_role_valid"):
        await session.execute(text("INSERT INTO users (role) VALUES ('wizard')"))


async def test_model_refuses_an_unknown_role_before_the_database(session: AsyncSession) -> None:
    session.add(User(telegram_id=next(_telegram_ids), role="wizard"))

    with pytest.raises(StatementError, match="wizard"):
        await session.flush()


async def test_enum_columns_load_as_enum_members(session: AsyncSession) -> None:
    user = await create_user(session, status="blocked")

    await session.refresh(user)

    assert user.status is UserStatus.BLOCKED


async def test_negative_delivery_attempts_are_refused(session: AsyncSession) -> None:
    user = await create_user(session)
    broadcast = await create_broadcast(session)
    session.add(Delivery(broadcast_id=broadcast.id, user_id=user.id, attempts=-1))

    with pytest.raises(IntegrityError, match="ck_deliveries_attempts_not_negative"):
        await session.flush()


async def test_goal_without_a_positive_target_is_refused(session: AsyncSession) -> None:
    session.add(
        Goal(
            name="Teachers finish the first track",
            measure=GoalMeasure.TRACKS_COMPLETED,
            target=0,
            deadline=date(2026, 6, 30),
        )
    )

    with pytest.raises(IntegrityError, match="ck_goals_target_positive"):
        await session.flush()


async def test_several_erased_learners_may_have_no_telegram_id(session: AsyncSession) -> None:
    session.add_all([User(status=UserStatus.ERASED), User(status=UserStatus.ERASED)])

    await session.flush()


async def test_timestamps_round_trip_as_aware_utc(session: AsyncSession) -> None:
    sofia_evening = datetime(2026, 3, 1, 19, 30, tzinfo=timezone(timedelta(hours=2)))
    user = await create_user(session, consented_at=sofia_evening)

    await session.refresh(user)

    assert user.consented_at == sofia_evening
    assert user.consented_at is not None
    assert user.consented_at.tzinfo is UTC


async def test_timestamps_set_by_the_database_load_as_aware_utc(session: AsyncSession) -> None:
    await session.execute(text("INSERT INTO users (telegram_id) VALUES (42)"))

    created_at = await session.scalar(select(User.created_at).where(User.telegram_id == 42))

    assert created_at is not None
    assert created_at.tzinfo is UTC
    assert abs(datetime.now(UTC) - created_at) < timedelta(minutes=5)
