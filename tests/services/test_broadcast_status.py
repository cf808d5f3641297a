"""A broadcast's status as its author follows it: when, why messages wait, who got it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.db.base import utcnow
from learntogether.db.models import (
    Broadcast,
    BroadcastStatus,
    Delivery,
    DeliveryStatus,
    Event,
    Membership,
    Role,
    User,
    WaitReason,
)
from learntogether.services import broadcasts, events, learners
from learntogether.services.actors import Actor
from learntogether.services.errors import NotAllowed
from tests.factories import create_cohort, mediating


async def _learner(session: AsyncSession, telegram_id: int, name: str) -> User:
    return await learners.register(
        session,
        telegram_id=telegram_id,
        first_name=name,
        locale="en",
        role=Role.TEACHER,
        cohort_code="SLV1",
    )


async def test_status_of_a_scheduled_broadcast_lists_everyone_on_the_way_and_can_be_cancelled(
    session: AsyncSession,
) -> None:
    cohort = await create_cohort(session, code="SLV1", name="Sliven 1")
    await _learner(session, 1, "Ana")
    await _learner(session, 2, "Ivo")
    info = await broadcasts.create_broadcast(
        session,
        actor=mediating(cohort.id),
        text="Hello",
        cohort="SLV1",
        send_at=utcnow() + timedelta(hours=1),
    )

    view = await broadcasts.broadcast_status(
        session, broadcast_id=info.id, actor=mediating(cohort.id)
    )

    assert view.cohort_names == ["Sliven 1"]
    assert view.cancellable and view.waiting == []
    assert [(r.name, r.status) for r in view.recipients] == [
        ("Ana", DeliveryStatus.PENDING),
        ("Ivo", DeliveryStatus.PENDING),
    ]
    cancelled = await broadcasts.cancel_broadcast(
        session, broadcast_id=info.id, actor=mediating(cohort.id)
    )
    assert cancelled.status is BroadcastStatus.CANCELLED
    view = await broadcasts.broadcast_status(
        session, broadcast_id=info.id, actor=mediating(cohort.id)
    )
    assert not view.cancellable
    assert {r.status for r in view.recipients} == {DeliveryStatus.CANCELLED}


async def test_waiting_messages_are_grouped_by_reason_with_the_last_moment_they_wait(
    session: AsyncSession,
) -> None:
    cohort = await create_cohort(session, code="SLV1")
    users = [await _learner(session, telegram_id, f"L{telegram_id}") for telegram_id in (1, 2, 3)]
    info = await broadcasts.create_broadcast(
        session, actor=Actor.system("test"), text="Hello", cohort="SLV1"
    )
    now = utcnow()
    waits = [
        (users[0], WaitReason.QUIET_HOURS, now + timedelta(hours=3)),
        (users[1], WaitReason.QUIET_HOURS, now + timedelta(hours=5)),
        (users[2], WaitReason.PAUSE, now + timedelta(seconds=40)),
    ]
    for user, reason, until in waits:
        await session.execute(
            update(Delivery)
            .where(Delivery.broadcast_id == info.id, Delivery.user_id == user.id)
            .values(wait_reason=reason, next_attempt_at=until)
        )

    view = await broadcasts.broadcast_status(
        session, broadcast_id=info.id, actor=mediating(cohort.id)
    )

    assert [(w.reason, w.count, w.until) for w in view.waiting] == [
        (WaitReason.QUIET_HOURS, 2, waits[1][2]),
        (WaitReason.PAUSE, 1, waits[2][2]),
    ]
    assert [r.wait_reason for r in view.recipients] == [
        WaitReason.QUIET_HOURS,
        WaitReason.QUIET_HOURS,
        WaitReason.PAUSE,
    ]


async def test_a_mediator_sees_by_name_only_the_members_of_their_cohorts(
    session: AsyncSession,
) -> None:
    cohort = await create_cohort(session, code="SLV1")
    await _learner(session, 1, "Ana")
    gone = await _learner(session, 2, "Ivo")
    mediator = mediating(cohort.id)
    info = await broadcasts.create_broadcast(session, actor=mediator, text="Hi", cohort="SLV1")
    # Ivo left the group after it was sent: its mediator no longer sees him.
    await session.execute(delete(Membership).where(Membership.user_id == gone.id))

    view = await broadcasts.broadcast_status(session, broadcast_id=info.id, actor=mediator)
    assert [r.name for r in view.recipients] == ["Ana"]
    assert view.unlisted == 0
    assert view.info.counts.total == 2
    admin_view = await broadcasts.broadcast_status(
        session, broadcast_id=info.id, actor=Actor.system("test"), listed=1
    )
    assert [r.name for r in admin_view.recipients] == ["Ana"]
    assert admin_view.unlisted == 1


async def test_only_the_author_follows_a_status_and_a_newer_message_takes_over(
    session: AsyncSession,
) -> None:
    cohort = await create_cohort(session, code="SLV1")
    rosa = await _learner(session, 1, "Rosa")
    await _learner(session, 2, "Ana")
    author = Actor.mediator(rosa.id, frozenset({cohort.id}))
    info = await broadcasts.create_broadcast(session, actor=author, text="Hi", cohort="SLV1")
    with pytest.raises(NotAllowed):
        await broadcasts.follow_status(
            session,
            broadcast_id=info.id,
            actor=mediating(cohort.id),
            chat_id=9,
            message_id=1,
            digest="a",
        )
    await broadcasts.follow_status(
        session, broadcast_id=info.id, actor=author, chat_id=1, message_id=10, digest="a"
    )
    await broadcasts.follow_status(
        session, broadcast_id=info.id, actor=author, chat_id=1, message_id=11, digest="b"
    )
    # The older message is no longer followed: what it shows changes nothing.
    await broadcasts.status_shown(session, broadcast_id=info.id, digest="c", message_id=10)
    (followed,) = await broadcasts.followed_statuses(session, broadcast_ids=[info.id])
    assert (followed.author_id, followed.message_id, followed.digest) == (rosa.id, 11, "b")
    await broadcasts.status_shown(session, broadcast_id=info.id, digest=None, message_id=11)
    assert await broadcasts.followed_statuses(session, broadcast_ids=[info.id]) == []


async def test_an_erased_mediators_chat_is_no_longer_followed_nor_kept(
    session: AsyncSession,
) -> None:
    """Their broadcast's status and their workshop's QR count were kept up to date in their chat:
    erasing them forgets the chat (its id is their Telegram id)."""
    cohort = await create_cohort(session, code="SLV1")
    rosa = await _learner(session, 1, "Rosa")
    other = await _learner(session, 2, "Ana")
    rosa_mediating = Actor.mediator(rosa.id, frozenset({cohort.id}))
    others = Actor.mediator(other.id, frozenset({cohort.id}))
    mine, theirs = [
        await broadcasts.create_broadcast(session, actor=actor, text="Hi", cohort="SLV1")
        for actor in (rosa_mediating, others)
    ]
    for info, actor, chat in ((mine, rosa_mediating, 1), (theirs, others, 2)):
        await broadcasts.follow_status(
            session, broadcast_id=info.id, actor=actor, chat_id=chat, message_id=10, digest="a"
        )
    workshop = await events.create_event(
        session,
        cohort_code="SLV1",
        data=events.EventInput(title="Parents' evening", starts_at=utcnow()),
        actor=rosa_mediating,
    )
    await events.follow_check_ins(
        session, event_id=workshop.id, actor=rosa_mediating, chat_id=1, message_id=11, shown=0
    )

    await learners.erase(session, learner=rosa)

    followed = await broadcasts.followed_statuses(session, broadcast_ids=[mine.id, theirs.id])
    assert [(status.broadcast_id, status.chat_id) for status in followed] == [(theirs.id, 2)]
    event = await session.get(Event, workshop.id, populate_existing=True)
    assert event is not None
    assert (event.qr_user_id, event.qr_chat_id, event.qr_message_id) == (None, None, None)
    broadcast = await session.get(Broadcast, mine.id, populate_existing=True)
    assert broadcast is not None and broadcast.status_chat_id is None
