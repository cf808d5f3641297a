"""Reminders and nudges: what the scheduler sends on its own, decided here, sent through the outbox.

- A cohort's recurring reminders: a cron expression in the cohort's time zone, with a text.
- A learner's own daily reminder at the time they chose, in their zone ("Your next lesson: …").
- Nudges: a friendly word to learners who have gone quiet, at most one a week.

Each sweep only creates outbox rows; ``learntogether/delivery`` sends them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import ColumnElement, and_, delete, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.db.base import utcnow
from learntogether.db.models import (
    Broadcast,
    BroadcastKind,
    Cohort,
    Delivery,
    Membership,
    Reminder,
    User,
    UserStatus,
)
from learntogether.services import audit, broadcasts
from learntogether.services.actors import Actor
from learntogether.services.cohorts import find_in_scope, quiet_since
from learntogether.services.cron import check_cron, next_run, validate_cron
from learntogether.services.inputs import TimeZoneName
from learntogether.services.learners import COUNTRY_TIMEZONES, zone_of

# A reminder that fell due while no scheduler ran is still sent if it is at most this late;
# older ones are skipped rather than sent at an odd hour. Several missed runs coalesce into one.
LATE_GRACE = timedelta(hours=1)
NUDGE_EVERY = timedelta(days=7)
DAILY_REMINDERS = Actor.system("scheduler:daily")
COHORT_REMINDERS = Actor.system("scheduler:cohort")
NUDGES = Actor.system("scheduler:nudge")


class ReminderInput(BaseModel):
    """A recurring reminder: ``{"cron": "0 18 * * 1", "timezone": "Europe/Sofia", "text": ...}``."""

    model_config = ConfigDict(extra="forbid")

    cron: Annotated[
        str,
        Field(
            min_length=1,
            max_length=100,
            description=(
                "Standard five-field cron: minute hour day month weekday (0 and 7 are Sunday,"
                " 1 Monday); with a day of the month and a weekday, either"
            ),
        ),
    ]
    timezone: TimeZoneName | None = Field(
        default=None, description="Default: the cohort country's zone"
    )
    text: str | dict[str, str]
    enabled: bool = True

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        try:
            return validate_cron(value)
        except ValueError as error:
            raise ValueError(f"not a cron expression: {error}") from None


@dataclass(frozen=True)
class ReminderInfo:
    id: int
    cohort: str
    cron: str
    timezone: str
    text: dict[str, str]
    enabled: bool
    next_run_at: datetime | None
    last_run_at: datetime | None


def _info(reminder: Reminder, cohort_code: str, now: datetime) -> ReminderInfo:
    upcoming = next_run(reminder.cron, reminder.timezone, after=now) if reminder.enabled else None
    return ReminderInfo(
        id=reminder.id,
        cohort=cohort_code,
        cron=reminder.cron,
        timezone=reminder.timezone,
        text=reminder.text,
        enabled=reminder.enabled,
        next_run_at=upcoming,
        last_run_at=reminder.last_run_at,
    )


def cohort_timezone(country: str | None) -> str:
    """The zone a cohort's reminders run in unless one is named: its country's."""
    return COUNTRY_TIMEZONES.get(country or "", "UTC")


async def create_reminder(
    session: AsyncSession,
    *,
    cohort_code: str,
    data: ReminderInput,
    actor: Actor,
    default_locale: str,
) -> ReminderInfo:
    cohort = await find_in_scope(session, cohort_code, actor)
    texts = broadcasts.clean_text(data.text, default_locale=cohort.locale or default_locale)
    zone = data.timezone or cohort_timezone(cohort.country)
    # Admins reach every cohort and may schedule as often as they like; mediators hourly at most.
    check_cron(data.cron, zone, at_most_hourly=not actor.is_admin)
    reminder = Reminder(
        cohort_id=cohort.id, cron=data.cron, timezone=zone, text=texts, enabled=data.enabled
    )
    session.add(reminder)
    await session.flush()
    await audit.record_change(
        session,
        actor=actor,
        action="create",
        entity="reminder",
        entity_id=str(reminder.id),
        after={"cohort": cohort.code, "cron": data.cron, "timezone": zone, "text": texts},
    )
    return _info(reminder, cohort.code, utcnow())


async def list_reminders(
    session: AsyncSession, *, cohort_code: str, actor: Actor, limit: int, offset: int = 0
) -> tuple[list[ReminderInfo], int]:
    """A page of the cohort's recurring reminders, oldest first, and how many there are."""
    cohort = await find_in_scope(session, cohort_code, actor)
    total = await session.scalar(
        select(func.count()).select_from(Reminder).where(Reminder.cohort_id == cohort.id)
    )
    found = await session.scalars(
        select(Reminder)
        .where(Reminder.cohort_id == cohort.id)
        .order_by(Reminder.id)
        .limit(limit)
        .offset(offset)
    )
    now = utcnow()
    return [_info(reminder, cohort.code, now) for reminder in found], total or 0


async def delete_reminder(
    session: AsyncSession,
    *,
    reminder_id: int,
    actor: Actor,
) -> None:
    actor.check_manages()
    reminder = await session.get(Reminder, reminder_id)
    if reminder is None or not actor.allows(reminder.cohort_id):
        raise actor.out_of_reach(
            missing=f"No reminder has the id {reminder_id}.",
            not_yours="This reminder is not in one of your cohorts.",
        )
    await session.execute(delete(Reminder).where(Reminder.id == reminder_id))
    await audit.record_change(
        session,
        actor=actor,
        action="delete",
        entity="reminder",
        entity_id=str(reminder_id),
        before={"cron": reminder.cron, "timezone": reminder.timezone, "text": reminder.text},
    )


def _reachable() -> ColumnElement[bool]:
    """Learners the system may write to on its own."""
    return and_(
        User.status == UserStatus.ACTIVE,
        User.telegram_id.is_not(None),
        User.consent_version.is_not(None),
        User.reminders_enabled.is_(True),
    )


async def send_cohort_reminders(session: AsyncSession, *, now: datetime | None = None) -> int:
    """Queue every cohort reminder that fell due since it last ran; returns how many were queued.

    The reminders are locked while they are swept (PostgreSQL skips those another sweep holds;
    SQLite has one writer): two schedulers that both believe they lead, for the seconds after a
    leader's lock connection drops, cannot send the same reminder twice.
    """
    moment = now or utcnow()
    queued = 0
    due_reminders = (
        select(Reminder)
        .where(Reminder.enabled.is_(True))
        .order_by(Reminder.id)
        .with_for_update(skip_locked=True)
    )
    for reminder in await session.scalars(due_reminders):
        after = reminder.last_run_at or reminder.created_at
        due = next_run(reminder.cron, reminder.timezone, after=after)
        if due is None or due > moment:
            continue
        reminder.last_run_at = moment
        if moment - due > LATE_GRACE:
            continue
        members = await session.scalars(
            select(Membership.user_id)
            .join(User, User.id == Membership.user_id)
            .where(Membership.cohort_id == reminder.cohort_id, _reachable())
        )
        await broadcasts.create_for_learners(
            session,
            kind=BroadcastKind.REMINDER,
            user_ids=list(members),
            text=reminder.text,
            actor=COHORT_REMINDERS,
        )
        queued += 1
    await session.flush()
    return queued


def _local_windows(zone: ZoneInfo, start: datetime, end: datetime) -> list[tuple[time, time]]:
    """The wall-clock spans of ``(start, end]`` in ``zone``, split where they cross midnight."""
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    if local_start.date() == local_end.date():
        return [(local_start.time(), local_end.time())]
    return [(local_start.time(), time.max), (time.min, local_end.time())]


def _recently(kind: BroadcastKind, since: datetime, *, sent_by: Actor | None = None) -> Any:
    """The learner already has such a message (from ``sent_by``, or anyone) since ``since``."""
    return exists().where(
        Delivery.user_id == User.id,
        Delivery.created_at > since,
        Broadcast.id == Delivery.broadcast_id,
        Broadcast.kind == kind,
        *([Broadcast.created_by == sent_by.name] if sent_by is not None else []),
    )


async def send_daily_reminders(
    session: AsyncSession, *, since: datetime, now: datetime | None = None
) -> int:
    """Queue the personal reminders whose chosen time passed in ``(since, now]``; returns how many.

    ``since`` is when the previous sweep ran (at most ``LATE_GRACE`` back). A learner gets at most
    one a day, even when a restart makes two sweeps cover the same minutes.
    """
    moment = now or utcnow()
    start = max(since, moment - LATE_GRACE)
    zones = await session.execute(
        select(User.timezone, User.country)
        .where(_reachable(), User.reminder_time.is_not(None))
        .distinct()
    )
    due: list[int] = []
    for timezone, country in zones:
        zone = zone_of(timezone, country)
        spans = _local_windows(zone, start, moment)
        same_zone = (
            User.timezone == timezone
            if timezone is not None
            else and_(User.timezone.is_(None), _same_country(country))
        )
        in_window = or_(
            *(
                and_(
                    User.reminder_time >= low if low == time.min else User.reminder_time > low,
                    User.reminder_time <= high,
                )
                for low, high in spans
            )
        )
        found = await session.scalars(
            select(User.id).where(
                _reachable(),
                same_zone,
                in_window,
                ~_recently(
                    BroadcastKind.REMINDER,
                    moment - timedelta(hours=20),
                    sent_by=DAILY_REMINDERS,
                ),
            )
        )
        due.extend(found)
    if due:
        await broadcasts.create_for_learners(
            session, kind=BroadcastKind.REMINDER, user_ids=due, actor=DAILY_REMINDERS
        )
    return len(due)


def _same_country(country: str | None) -> ColumnElement[bool]:
    return User.country == country if country is not None else User.country.is_(None)


@dataclass(frozen=True)
class NudgeResult:
    nudged: int
    recently_nudged: int


async def quiet_members(
    session: AsyncSession, *, now: datetime, cohort_ids: list[int] | None
) -> tuple[list[int], int]:
    """Quiet members to nudge now, and how many are quiet but were nudged this week."""
    to_nudge: set[int] = set()
    skipped: set[int] = set()
    days_query = select(Cohort.nudge_after_days).where(Cohort.archived_at.is_(None)).distinct()
    if cohort_ids is not None:
        days_query = days_query.where(Cohort.id.in_(cohort_ids))
    for days in list(await session.scalars(days_query)):
        query = (
            select(User.id, _recently(BroadcastKind.NUDGE, now - NUDGE_EVERY))
            .join(Membership, Membership.user_id == User.id)
            .join(Cohort, Cohort.id == Membership.cohort_id)
            .where(
                _reachable(),
                Cohort.nudge_after_days == days,
                Cohort.archived_at.is_(None),
                quiet_since(days, now),
            )
        )
        if cohort_ids is not None:
            query = query.where(Cohort.id.in_(cohort_ids))
        for user_id, recent in await session.execute(query):
            (skipped if recent else to_nudge).add(user_id)
    return sorted(to_nudge - skipped), len(skipped)


async def send_nudges(
    session: AsyncSession,
    *,
    now: datetime | None = None,
    cohort_ids: list[int] | None = None,
    actor: Actor = NUDGES,
) -> NudgeResult:
    """Nudge members who have gone quiet (every cohort, or these), at most once a week each,
    whoever nudged them last."""
    moment = now or utcnow()
    due, recent = await quiet_members(session, now=moment, cohort_ids=cohort_ids)
    if due:
        await broadcasts.create_for_learners(
            session, kind=BroadcastKind.NUDGE, user_ids=due, actor=actor
        )
    return NudgeResult(nudged=len(due), recently_nudged=recent)


async def nudge_preview(
    session: AsyncSession, *, cohort_code: str, actor: Actor, now: datetime | None = None
) -> NudgeResult:
    """What ``nudge_cohort`` would do now, without sending: for a confirmation."""
    cohort = await find_in_scope(session, cohort_code, actor)
    due, recent = await quiet_members(session, now=now or utcnow(), cohort_ids=[cohort.id])
    return NudgeResult(nudged=len(due), recently_nudged=recent)


async def nudge_cohort(
    session: AsyncSession, *, cohort_code: str, actor: Actor, now: datetime | None = None
) -> NudgeResult:
    """A mediator nudges their cohort's quiet members now (``/nudge``), with the same weekly
    limit; the nudge is recorded as theirs."""
    cohort = await find_in_scope(session, cohort_code, actor)
    return await send_nudges(session, now=now, cohort_ids=[cohort.id], actor=actor)
