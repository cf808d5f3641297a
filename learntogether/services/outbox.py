"""The outbox: one delivery row per recipient, claimed by workers, settled with what Telegram said.

Rows move ``pending`` → ``sending`` (leased to one worker until ``lease_until``) → ``sent``,
``failed``, ``blocked`` or ``cancelled``; a retry or a pause puts a row back to ``pending`` with a
``next_attempt_at``. A worker that dies leaves its rows ``sending``; once the lease runs out any
worker claims them again, so nothing is lost, and at most the rows it held are sent twice.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, exists, insert, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.db import activity_log, tables
from learntogether.db.base import UTCDateTime, utcnow
from learntogether.db.models import (
    Broadcast,
    BroadcastKind,
    BroadcastStatus,
    Delivery,
    DeliveryStatus,
    Membership,
    Role,
    User,
    UserStatus,
    Verb,
    WaitReason,
)
from learntogether.services.quiet_hours import quiet_until
from learntogether.services.time_zones import zone_name

# The nudge's Continue button: the delivery worker puts it on every nudge, the bot's handler for it
# opens the learner's next lesson.
RESUME_CALLBACK = "resume"
# Reminders, nudges and review invitations respect the learner's "no reminders" choice;
# broadcasts do not.
PERSONAL_KINDS = frozenset({BroadcastKind.REMINDER, BroadcastKind.NUDGE, BroadcastKind.REVIEW})
ACTIVITY_VERBS = {BroadcastKind.REMINDER: Verb.REMINDED, BroadcastKind.NUDGE: Verb.NUDGED}
# Broadcasts whose rows may still be sent.
OPEN_BROADCASTS = (BroadcastStatus.SCHEDULED, BroadcastStatus.SENDING)
UNSETTLED = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)
# Bound parameters per statement stay well under SQLite's and asyncpg's limits.
_CHUNK = 5000


@dataclass(frozen=True)
class Recipient:
    """What sending needs to know about a learner (loaded as columns: claims are hot)."""

    id: int
    telegram_id: int | None
    locale: str | None
    reads_locale: str | None
    role: Role | None
    country: str | None
    region: str | None
    municipality: str | None
    status: UserStatus
    reminders_enabled: bool
    timezone: str | None
    quiet_hours_start: time | None
    quiet_hours_end: time | None


_RECIPIENT_COLUMNS = [getattr(User, field.name) for field in fields(Recipient)]


@dataclass(frozen=True)
class Claimed:
    """A delivery row leased to this worker, with what it takes to send it."""

    id: int
    broadcast_id: int
    kind: BroadcastKind
    text: dict[str, str]
    attempts: int
    """Tries so far, this one included."""
    learner: Recipient
    sender: str | None = None
    """The first name of the mediator who wrote a broadcast (None: the programme's)."""


@dataclass(frozen=True)
class Settled:
    """What became of a claimed row: its new status and the details to keep."""

    delivery: Claimed
    status: DeliveryStatus
    message_id: int | None = None
    error: str | None = None
    next_attempt_at: datetime | None = None
    wait_reason: WaitReason | None = None
    """Why a row put back to pending waits until ``next_attempt_at``."""
    counts_as_attempt: bool = True
    """False for a row put back untried (a pause, a stopping worker): its claim is undone."""


def recipients(
    kind: BroadcastKind,
    *,
    all_learners: bool = False,
    cohort_ids: Collection[int] = (),
    user_ids: Collection[int] | None = None,
) -> Any:
    """The WHERE clause of the learners a message of ``kind`` may go to.

    Only learners who agreed to the privacy notice, can be reached (not blocked, not erased), and,
    for reminders and nudges, have not turned reminders off.
    """
    conditions = [
        User.status == UserStatus.ACTIVE,
        User.telegram_id.is_not(None),
        User.consent_version.is_not(None),
    ]
    if kind in PERSONAL_KINDS:
        conditions.append(User.reminders_enabled.is_(True))
    if user_ids is not None:
        conditions.append(User.id.in_(user_ids))
    elif not all_learners:
        conditions.append(
            exists().where(Membership.user_id == User.id, Membership.cohort_id.in_(cohort_ids))
        )
    return and_(*conditions)


async def enqueue(
    session: AsyncSession,
    broadcast: Broadcast,
    *,
    now: datetime,
    cohort_ids: Collection[int] = (),
    user_ids: Collection[int] | None = None,
) -> None:
    """Insert one pending row per recipient of ``broadcast`` in bulk (INSERT … SELECT).

    Rows of a broadcast scheduled for later wait until its ``send_at``.
    """
    due = broadcast.send_at if broadcast.send_at > now else None
    columns = ["broadcast_id", "user_id", "status", "attempts", "next_attempt_at"]
    columns += ["created_at", "updated_at"]
    chunks: Iterable[Collection[int] | None] = (
        [None]
        if user_ids is None
        else [sorted(user_ids)[i : i + _CHUNK] for i in range(0, len(user_ids), _CHUNK)]
    )
    for chunk in chunks:
        where = recipients(
            broadcast.kind,
            all_learners=broadcast.all_learners,
            cohort_ids=cohort_ids,
            user_ids=chunk,
        )
        rows = select(
            literal(broadcast.id),
            User.id,
            literal(DeliveryStatus.PENDING.value),
            literal(0),
            literal(due, UTCDateTime),
            literal(now, UTCDateTime),
            literal(now, UTCDateTime),
        ).where(where)
        # Learners in the order they joined, so that the oldest row is sent first.
        rows = rows.order_by(User.id)
        await session.execute(insert(tables.deliveries).from_select(columns, rows))


def _due(now: datetime) -> Any:
    return (
        select(Delivery.id)
        .join(Broadcast, Broadcast.id == Delivery.broadcast_id)
        .where(Broadcast.status.in_(OPEN_BROADCASTS), Broadcast.send_at <= now)
        .order_by(Delivery.id)
    )


async def _lock_due(session: AsyncSession, query: Any, limit: int) -> list[int]:
    # PostgreSQL: workers on other processes skip rows one of them is claiming, instead of
    # waiting. SQLite: the engine takes the write lock for it, so one claim runs at a time.
    query = query.limit(limit).with_for_update(skip_locked=True, of=Delivery)
    return list(await session.scalars(query))


async def claim(
    session: AsyncSession,
    *,
    limit: int,
    lease: timedelta,
    now: datetime,
    touched: set[int] | None = None,
) -> list[Claimed]:
    """Lease up to ``limit`` due rows to the caller, oldest first, and commit nothing.

    Due: pending rows whose ``next_attempt_at`` has come and ``sending`` rows whose lease ran out
    (their worker died), of broadcasts that are not cancelled and whose ``send_at`` has come.
    Rows whose learner since blocked the bot, erased their data or turned reminders off are
    settled on the spot; rows whose learner is in quiet hours wait until they end. The broadcasts
    of rows settled on the spot are added to ``touched``.
    """
    expired = _due(now).where(Delivery.status == DeliveryStatus.SENDING, Delivery.lease_until < now)
    pending = _due(now).where(
        Delivery.status == DeliveryStatus.PENDING,
        or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now),
    )
    ids = await _lock_due(session, expired, limit)
    if len(ids) < limit:
        ids += await _lock_due(session, pending, limit - len(ids))
    if not ids:
        return []
    rows = (
        await session.execute(
            select(Delivery.id, Delivery.broadcast_id, Delivery.attempts, *_RECIPIENT_COLUMNS)
            .join(User, User.id == Delivery.user_id)
            .where(Delivery.id.in_(ids))
            .order_by(Delivery.id)
        )
    ).all()
    broadcasts = {
        row.id: row
        for row in await session.execute(
            select(
                Broadcast.id,
                Broadcast.kind,
                Broadcast.text,
                Broadcast.status,
                User.first_name.label("sender"),
            )
            .outerjoin(User, User.id == Broadcast.created_by_user_id)
            .where(Broadcast.id.in_({row.broadcast_id for row in rows}))
        )
    }
    claimed: list[Claimed] = []
    settled: list[dict[str, Any]] = []
    for delivery_id, broadcast_id, attempts, *columns in rows:
        learner = Recipient(*columns)
        broadcast = broadcasts[broadcast_id]
        skip = _unreachable(learner, broadcast.kind)
        if skip is not None:
            status, error = skip
            settled.append(_values(delivery_id, status, now, error=error))
            continue
        if wait_until := _quiet_until(learner, now):
            settled.append(
                _values(
                    delivery_id,
                    DeliveryStatus.PENDING,
                    now,
                    next_attempt_at=wait_until,
                    wait_reason=WaitReason.QUIET_HOURS,
                )
            )
            continue
        claimed.append(
            Claimed(
                id=delivery_id,
                broadcast_id=broadcast_id,
                kind=broadcast.kind,
                text=dict(broadcast.text or {}),
                attempts=attempts + 1,
                learner=learner,
                sender=broadcast.sender if broadcast.kind is BroadcastKind.BROADCAST else None,
            )
        )
    if claimed:
        await session.execute(
            update(Delivery)
            .where(Delivery.id.in_([row.id for row in claimed]))
            .values(
                status=DeliveryStatus.SENDING,
                lease_until=now + lease,
                attempts=Delivery.attempts + 1,
                updated_at=now,
            ),
            execution_options={"synchronize_session": False},
        )
        starting = {
            row.broadcast_id
            for row in claimed
            if broadcasts[row.broadcast_id].status is BroadcastStatus.SCHEDULED
        }
        if starting:
            # Only the first claim of a broadcast writes it: later ones do not queue on its row.
            await session.execute(
                update(Broadcast)
                .where(Broadcast.id.in_(starting), Broadcast.status == BroadcastStatus.SCHEDULED)
                .values(status=BroadcastStatus.SENDING),
                execution_options={"synchronize_session": False},
            )
    if settled:
        await _write(session, settled)
        if touched is not None:
            settled_ids = {values["row_id"] for values in settled}
            touched.update(row.broadcast_id for row in rows if row.id in settled_ids)
    return claimed


def _quiet_until(learner: Recipient, now: datetime) -> datetime | None:
    if learner.quiet_hours_start is None or learner.quiet_hours_end is None:
        return None
    zone = zone_name(learner.timezone, learner.country)
    return quiet_until(
        now, start=learner.quiet_hours_start, end=learner.quiet_hours_end, timezone=zone
    )


def _unreachable(learner: Recipient, kind: BroadcastKind) -> tuple[DeliveryStatus, str] | None:
    """Why a learner cannot get this message now, if they changed since the row was written."""
    if learner.status is UserStatus.ERASED or learner.telegram_id is None:
        return DeliveryStatus.CANCELLED, "the learner erased their data"
    if learner.status is UserStatus.BLOCKED:
        return DeliveryStatus.BLOCKED, "the learner has blocked the bot"
    if kind in PERSONAL_KINDS and not learner.reminders_enabled:
        return DeliveryStatus.CANCELLED, "the learner turned reminders off"
    return None


def _values(
    delivery_id: int,
    status: DeliveryStatus,
    now: datetime,
    *,
    error: str | None = None,
    next_attempt_at: datetime | None = None,
    wait_reason: WaitReason | None = None,
    message_id: int | None = None,
    undo_attempt: bool = False,
) -> dict[str, Any]:
    return {
        "row_id": delivery_id,
        "status": status,
        "last_error": error,
        "next_attempt_at": next_attempt_at,
        "wait_reason": wait_reason if next_attempt_at is not None else None,
        "message_id": message_id,
        "sent_at": now if status is DeliveryStatus.SENT else None,
        "undo": 1 if undo_attempt else 0,
        "updated_at": now,
    }


async def _write(session: AsyncSession, values: Sequence[dict[str, Any]]) -> None:
    """One executemany UPDATE by id; rows settled meanwhile by someone else are left alone."""
    statement = (
        update(tables.deliveries)
        .where(
            tables.deliveries.c.id == bindparam("row_id"),
            # Not IN: an expanding parameter cannot go into an executemany.
            or_(*(tables.deliveries.c.status == status for status in UNSETTLED)),
        )
        .values(
            status=bindparam("status"),
            last_error=bindparam("last_error"),
            next_attempt_at=bindparam("next_attempt_at"),
            wait_reason=bindparam("wait_reason"),
            message_id=bindparam("message_id"),
            sent_at=bindparam("sent_at"),
            attempts=tables.deliveries.c.attempts - bindparam("undo"),
            lease_until=None,
            updated_at=bindparam("updated_at"),
        )
    )
    await session.execute(statement, list(values))


async def settle(session: AsyncSession, results: Sequence[Settled], *, now: datetime) -> None:
    """Write what became of claimed rows, mark blocking learners, record reminders and nudges.

    The caller commits. Broadcasts without unsettled rows left are marked done.
    """
    if not results:
        return
    await _write(
        session,
        [
            _values(
                result.delivery.id,
                result.status,
                now,
                error=result.error,
                next_attempt_at=result.next_attempt_at,
                wait_reason=result.wait_reason,
                message_id=result.message_id,
                undo_attempt=not result.counts_as_attempt,
            )
            for result in results
        ],
    )
    for result in results:
        telegram_id = result.delivery.learner.telegram_id
        if result.status is DeliveryStatus.BLOCKED and telegram_id is not None:
            await mark_blocked(session, telegram_id=telegram_id)
    reached = [
        result
        for result in results
        if result.status is DeliveryStatus.SENT and result.delivery.kind in ACTIVITY_VERBS
    ]
    if reached:
        await _record_activities(session, [result.delivery for result in reached], now=now)
    await finish_broadcasts(
        session, now=now, ids={result.delivery.broadcast_id for result in results}
    )


async def _record_activities(
    session: AsyncSession, deliveries: Sequence[Claimed], *, now: datetime
) -> None:
    """One REMINDED or NUDGED activity per message sent."""
    await activity_log.record_many(
        session,
        [
            activity_log.Entry(
                delivery.learner,
                ACTIVITY_VERBS[delivery.kind],
                details={"data": {"broadcast_id": delivery.broadcast_id}},
            )
            for delivery in deliveries
        ],
        occurred_at=now,
    )


async def finish_broadcasts(
    session: AsyncSession, *, now: datetime, ids: Collection[int] | None = None
) -> None:
    """Mark done the open broadcasts (all, or ``ids``) that are due and have nothing unsettled."""
    unsettled = exists().where(
        Delivery.broadcast_id == Broadcast.id, Delivery.status.in_(UNSETTLED)
    )
    statement = update(Broadcast).where(
        Broadcast.status.in_(OPEN_BROADCASTS), Broadcast.send_at <= now, ~unsettled
    )
    if ids is not None:
        statement = statement.where(Broadcast.id.in_(ids))
    await session.execute(
        statement.values(status=BroadcastStatus.DONE, finished_at=now),
        execution_options={"synchronize_session": False},
    )


async def sweep(session: AsyncSession, *, now: datetime) -> None:
    """Housekeeping while idle: finish broadcasts, cancel expired leases of cancelled ones."""
    cancelled = select(Broadcast.id).where(Broadcast.status == BroadcastStatus.CANCELLED)
    await session.execute(
        update(Delivery)
        .where(
            Delivery.status == DeliveryStatus.SENDING,
            Delivery.lease_until < now,
            Delivery.broadcast_id.in_(cancelled),
        )
        .values(status=DeliveryStatus.CANCELLED, lease_until=None, updated_at=now),
        execution_options={"synchronize_session": False},
    )
    await finish_broadcasts(session, now=now)


async def mark_blocked(session: AsyncSession, *, telegram_id: int) -> None:
    """The learner blocked the bot: nothing is sent to them until they write again."""
    await session.execute(
        update(User)
        .where(User.telegram_id == telegram_id, User.status == UserStatus.ACTIVE)
        .values(status=UserStatus.BLOCKED, blocked_at=utcnow())
    )
