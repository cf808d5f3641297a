"""Workshops held with a cohort: check-in by deep link or QR code, or by a mediator (assisted)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints
from sqlalchemy import case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.db import activity_log as activity
from learntogether.db.base import utcnow
from learntogether.db.models import (
    Attendance,
    AttendanceMethod,
    Cohort,
    Event,
    Membership,
    User,
    UserStatus,
    Verb,
)
from learntogether.services import audit, learners
from learntogether.services.actors import Actor
from learntogether.services.cohorts import find_in_scope
from learntogether.services.errors import (
    N_,
    DomainError,
    FieldProblem,
    InvalidInput,
    NotAllowed,
)
from learntogether.services.inputs import AwareMoment

CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
CODE_LENGTH = 8
# A check-in link works from half a day before the workshop until a day after it starts.
OPENS_BEFORE = timedelta(hours=12)
CLOSES_AFTER = timedelta(hours=24)


class CheckInClosed(DomainError):
    """The workshop's check-in link does not exist or is not open now."""


class EventInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    starts_at: AwareMoment
    location: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
        | None
    ) = None


@dataclass(frozen=True)
class Attendee:
    user_id: int
    name: str | None
    method: AttendanceMethod
    assisted: bool
    checked_in_at: datetime


@dataclass(frozen=True)
class EventInfo:
    id: int
    cohort: str
    code: str
    title: str
    starts_at: datetime
    location: str | None
    attended: int
    assisted: int
    members: int

    @property
    def check_in_payload(self) -> str:
        """What follows ``/start`` in the check-in link."""
        return f"e-{self.code}"


@dataclass(frozen=True)
class CheckIn:
    title: str
    already: bool
    joined: bool = False
    """The learner was not in the workshop's cohort and has joined it now."""
    cohort_name: str = ""


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


async def _infos(session: AsyncSession, events: Sequence[Event], cohort: Cohort) -> list[EventInfo]:
    """The cohort's ``events`` with their figures, in two queries however many there are."""
    by_mediator = case((Attendance.method == AttendanceMethod.MEDIATOR, 1), else_=0)
    counts = await session.execute(
        select(Attendance.event_id, func.count(), func.coalesce(func.sum(by_mediator), 0))
        .where(Attendance.event_id.in_([event.id for event in events]))
        .group_by(Attendance.event_id)
    )
    figures = {event_id: (attended, assisted) for event_id, attended, assisted in counts}
    members = await session.scalar(
        select(func.count()).select_from(Membership).where(Membership.cohort_id == cohort.id)
    )
    infos = []
    for event in events:
        attended, assisted = figures.get(event.id, (0, 0))
        infos.append(
            EventInfo(
                id=event.id,
                cohort=cohort.code,
                code=event.code,
                title=event.title,
                starts_at=event.starts_at,
                location=event.location,
                attended=attended,
                assisted=assisted,
                members=members or 0,
            )
        )
    return infos


async def _info(session: AsyncSession, event: Event, cohort: Cohort) -> EventInfo:
    [info] = await _infos(session, [event], cohort)
    return info


async def create_event(
    session: AsyncSession,
    *,
    cohort_code: str,
    data: EventInput,
    actor: Actor,
) -> EventInfo:
    """A workshop for the cohort, with the code of its check-in link."""
    cohort = await find_in_scope(session, cohort_code, actor)
    event = Event(
        cohort_id=cohort.id,
        code=_new_code(),
        title=data.title,
        starts_at=data.starts_at,
        location=data.location,
    )
    session.add(event)
    await session.flush()
    await audit.record_change(
        session,
        actor=actor,
        action="create",
        entity="event",
        entity_id=str(event.id),
        after=data.model_dump(mode="json") | {"cohort": cohort.code, "code": event.code},
    )
    return await _info(session, event, cohort)


async def _event_in_scope(
    session: AsyncSession, event_id: int, actor: Actor
) -> tuple[Event, Cohort]:
    actor.check_manages()
    row = (
        await session.execute(
            select(Event, Cohort)
            .join(Cohort, Cohort.id == Event.cohort_id)
            .where(Event.id == event_id)
        )
    ).first()
    if row is None or not actor.allows(row[1].id):
        raise actor.out_of_reach(
            missing=f"No workshop has the id {event_id}.",
            not_yours="This workshop is not in one of your cohorts.",
        )
    event, cohort = row
    return event, cohort


async def get_event(session: AsyncSession, *, event_id: int, actor: Actor) -> EventInfo:
    event, cohort = await _event_in_scope(session, event_id, actor)
    return await _info(session, event, cohort)


@dataclass(frozen=True, order=True)
class FollowedCount:
    """A workshop's QR message whose check-in count changed since it was last shown."""

    event_id: int
    user_id: int
    """The mediator it was sent to: the message is in their language, seen with their reach."""
    chat_id: int
    message_id: int


async def follow_check_ins(
    session: AsyncSession, *, event_id: int, actor: Actor, chat_id: int, message_id: int, shown: int
) -> None:
    """The actor's QR message of the workshop, showing ``shown`` check-ins: the delivery worker
    keeps its count up to date while check-in is open, from whichever process records the
    check-ins (one message a workshop; a newer one takes over)."""
    event, _cohort = await _event_in_scope(session, event_id, actor)
    if actor.user_id is None:
        raise NotAllowed("Only a mediator's own QR message is kept up to date.")
    event.qr_user_id = actor.user_id
    event.qr_chat_id = chat_id
    event.qr_message_id = message_id
    event.qr_shown = shown
    await session.flush()


async def check_in_counts_to_show(
    session: AsyncSession, *, now: datetime | None = None
) -> list[FollowedCount]:
    """The followed QR messages of workshops open for check-in whose count changed, each now
    marked as showing its new count (for the delivery worker): of several workers checking at
    once, one takes each change. Nothing is written when nothing changed (on SQLite a write
    takes the database's one write lock)."""
    moment = now or utcnow()
    attended = (
        select(func.count())
        .select_from(Attendance)
        .where(Attendance.event_id == Event.id)
        .scalar_subquery()
    )
    changed = (
        Event.qr_message_id.is_not(None),
        Event.qr_chat_id.is_not(None),
        Event.qr_user_id.is_not(None),
        Event.starts_at >= moment - CLOSES_AFTER,
        Event.starts_at <= moment + OPENS_BEFORE,
        func.coalesce(Event.qr_shown, -1) != attended,
    )
    if await session.scalar(select(Event.id).where(*changed).limit(1)) is None:
        return []
    rows = await session.execute(
        update(Event)
        .where(*changed)
        .values(qr_shown=attended)
        .returning(Event.id, Event.qr_user_id, Event.qr_chat_id, Event.qr_message_id),
        execution_options={"synchronize_session": False},
    )
    return sorted(
        FollowedCount(event_id, user_id, chat_id, message_id)
        for event_id, user_id, chat_id, message_id in rows
        if user_id is not None and chat_id is not None and message_id is not None
    )


async def stop_following_check_ins(
    session: AsyncSession, *, event_id: int, message_id: int
) -> None:
    """The QR message ``message_id`` is gone, or its mediator may no longer see the workshop.
    A newer message that took over is left alone."""
    await session.execute(
        update(Event)
        .where(Event.id == event_id, Event.qr_message_id == message_id)
        .values(qr_user_id=None, qr_chat_id=None, qr_message_id=None, qr_shown=None),
        execution_options={"synchronize_session": False},
    )


async def list_events(
    session: AsyncSession, *, cohort_code: str, actor: Actor, limit: int, offset: int = 0
) -> tuple[list[EventInfo], int]:
    """A page of the cohort's workshops, newest first, with their figures in a fixed number of
    queries, and how many there are."""
    cohort = await find_in_scope(session, cohort_code, actor)
    total = await session.scalar(
        select(func.count()).select_from(Event).where(Event.cohort_id == cohort.id)
    )
    found = await session.scalars(
        select(Event)
        .where(Event.cohort_id == cohort.id)
        .order_by(Event.starts_at.desc(), Event.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return await _infos(session, found.all(), cohort), total or 0


async def attendance(session: AsyncSession, *, event_id: int, actor: Actor) -> list[Attendee]:
    """Who came, in the order they checked in."""
    await _event_in_scope(session, event_id, actor)
    rows = await session.execute(
        select(Attendance, User.first_name)
        .join(User, User.id == Attendance.user_id)
        .where(Attendance.event_id == event_id)
        .order_by(Attendance.checked_in_at, Attendance.user_id)
    )
    return [
        Attendee(
            user_id=row.user_id,
            name=name,
            method=row.method,
            assisted=row.method is AttendanceMethod.MEDIATOR,
            checked_in_at=row.checked_in_at,
        )
        for row, name in rows
    ]


async def _attend(
    session: AsyncSession,
    *,
    event: Event,
    learner: User,
    method: AttendanceMethod,
    assisted_by: int | None,
) -> bool:
    """Record the check-in once; False when the learner was already checked in."""
    exists = await session.get(Attendance, (event.id, learner.id))
    if exists is not None:
        return False
    try:
        async with session.begin_nested():
            session.add(
                Attendance(
                    event_id=event.id,
                    user_id=learner.id,
                    method=method,
                    assisted_by_user_id=assisted_by,
                )
            )
    except IntegrityError:  # the same person scanned twice at once
        return False
    await activity.record(
        session,
        learner,
        Verb.ATTENDED,
        cohort_id=event.cohort_id,
        assisted=method is AttendanceMethod.MEDIATOR,
        data={"event_id": event.id},
    )
    return True


async def check_in(
    session: AsyncSession, *, learner: User, code: str, now: datetime | None = None
) -> CheckIn:
    """The learner opened the workshop's ``e-<code>`` link (or scanned its QR code).

    Someone not yet in the workshop's cohort joins it too, so its mediators see and reach them.
    """
    row = (
        await session.execute(
            select(Event, Cohort.code, Cohort.name)
            .join(Cohort, Cohort.id == Event.cohort_id)
            .where(Event.code == code.lower())
        )
    ).first()
    moment = now or utcnow()
    if row is None:
        raise CheckInClosed("No workshop has this check-in code.")
    event, cohort_code, cohort_name = row
    if not event.starts_at - OPENS_BEFORE <= moment <= event.starts_at + CLOSES_AFTER:
        raise CheckInClosed("This workshop's check-in is not open now.")
    try:
        joined = await learners.join_cohort(session, learner=learner, code=cohort_code)
        newcomer = not joined.already_member
    except learners.CohortNotFound:  # an archived cohort takes no one new
        newcomer = False
    added = await _attend(
        session, event=event, learner=learner, method=AttendanceMethod.DEEP_LINK, assisted_by=None
    )
    return CheckIn(title=event.title, already=not added, joined=newcomer, cohort_name=cohort_name)


async def record_attendance(
    session: AsyncSession,
    *,
    event_id: int,
    user_id: int,
    actor: Actor,
) -> bool:
    """A mediator checks a cohort member in on their behalf (assisted); False if already in."""
    event, cohort = await _event_in_scope(session, event_id, actor)
    learner = await session.scalar(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(User.id == user_id, Membership.cohort_id == cohort.id)
    )
    if learner is None or learner.status is UserStatus.ERASED:
        raise InvalidInput(
            N_("Only members of the workshop's cohort can be checked in."),
            [
                FieldProblem(
                    "$.user_id",
                    N_(
                        "no member of cohort {code} has the id {id}",
                        code=cohort.code,
                        id=user_id,
                    ),
                )
            ],
        )
    added = await _attend(
        session,
        event=event,
        learner=learner,
        method=AttendanceMethod.MEDIATOR,
        assisted_by=actor.user_id,
    )
    if added:
        await audit.record_change(
            session,
            actor=actor,
            action="check_in",
            entity="event",
            entity_id=str(event.id),
            after={"user_id": user_id, "assisted": True},
        )
    return added
