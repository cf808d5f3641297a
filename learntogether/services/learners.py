"""Learners: joining with consent, their choices, blocking, and seeing or erasing their data.

Nothing is stored about a person before they agree to the privacy notice; a refusal stores
nothing at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.content.render import locale_chain
from learntogether.db import activity_log as activity
from learntogether.db.base import utcnow
from learntogether.db.models import (
    Activity,
    Answer,
    Certificate,
    Cohort,
    LessonProgress,
    Membership,
    QuizAttempt,
    Role,
    User,
    UserStatus,
    Verb,
)
from learntogether.services.errors import InvalidInput, NotFound

# Bump when the privacy notice changes: learners are asked again.
PRIVACY_VERSION = "2026-11"
COHORT_PAYLOAD_PREFIX = "c-"
EVENT_PAYLOAD_PREFIX = "e-"


class CohortNotFound(NotFound):
    """A join link whose cohort does not exist or is closed."""


@dataclass(frozen=True)
class JoinedCohort:
    code: str
    name: str
    locale: str | None
    already_member: bool


async def find_learner(session: AsyncSession, telegram_id: int) -> User | None:
    """The learner behind a Telegram account, if they ever agreed to the notice."""
    return await session.scalar(select(User).where(User.telegram_id == telegram_id))


def has_consented(learner: User | None) -> bool:
    return learner is not None and learner.consent_version == PRIVACY_VERSION


async def find_cohort(session: AsyncSession, code: str) -> Cohort:
    cohort = await session.scalar(select(Cohort).where(Cohort.code == code))
    if cohort is None or cohort.archived_at is not None:
        raise CohortNotFound(f"No open cohort with code {code!r}.")
    return cohort


async def register(
    session: AsyncSession,
    *,
    telegram_id: int,
    first_name: str | None,
    locale: str,
    role: Role,
    cohort_code: str | None = None,
) -> User:
    """Store a learner who agreed to the privacy notice (or renew an older consent).

    Progress, memberships and choices made before are kept: running /start again loses nothing.
    """
    learner = await find_learner(session, telegram_id)
    now = utcnow()
    if learner is None:
        learner = User(telegram_id=telegram_id)
        session.add(learner)
    learner.first_name = first_name
    learner.locale = locale
    learner.role = role
    learner.consent_version = PRIVACY_VERSION
    learner.consented_at = now
    learner.status = UserStatus.ACTIVE
    learner.last_active_at = now
    await session.flush()
    if cohort_code is not None:
        await join_cohort(session, learner=learner, code=cohort_code)
    else:
        await activity.record(session, learner, Verb.JOINED)
    return learner


async def join_cohort(
    session: AsyncSession, *, learner: User, code: str, assisted: bool = False
) -> JoinedCohort:
    """Join the cohort of an invite link; joining twice is harmless.

    ``assisted``: a mediator enrolled someone without a smartphone.
    """
    cohort = await find_cohort(session, code)
    membership = await session.scalar(
        select(Membership).where(
            Membership.cohort_id == cohort.id, Membership.user_id == learner.id
        )
    )
    if membership is None:
        session.add(Membership(cohort_id=cohort.id, user_id=learner.id))
        if learner.country is None and cohort.country:
            learner.country, learner.region = cohort.country, cohort.region
        if learner.municipality is None:
            learner.municipality = cohort.municipality
        await session.flush()
        await activity.record(session, learner, Verb.JOINED, cohort_id=cohort.id, assisted=assisted)
    return JoinedCohort(
        cohort.code, cohort.name, cohort.locale, already_member=membership is not None
    )


async def cohort_locale(session: AsyncSession, learner: User) -> str | None:
    """The locale of the learner's newest cohort, the second choice for lesson content."""
    cohort_id = await activity.latest_cohort_id(session, learner.id)
    if cohort_id is None:
        return None
    return await session.scalar(select(Cohort.locale).where(Cohort.id == cohort_id))


async def set_locale(session: AsyncSession, *, learner: User, locale: str) -> None:
    learner.locale = locale
    await session.flush()


async def set_role(session: AsyncSession, *, learner: User, role: Role) -> None:
    learner.role = role
    await session.flush()


async def set_municipality(
    session: AsyncSession, *, learner: User, municipality: str | None
) -> None:
    """Optional: lets mediators and reports see participation by place; blank clears it."""
    learner.municipality = (municipality or "").strip()[:128] or None
    await session.flush()


async def mark_blocked(session: AsyncSession, *, telegram_id: int) -> None:
    """The learner blocked the bot: nothing is sent to them until they write again."""
    await session.execute(
        update(User)
        .where(User.telegram_id == telegram_id, User.status == UserStatus.ACTIVE)
        .values(status=UserStatus.BLOCKED, blocked_at=utcnow())
    )


async def mark_seen(session: AsyncSession, *, learner: User) -> None:
    """The learner wrote or pressed a button: active again, if they had blocked the bot."""
    learner.last_active_at = utcnow()
    if learner.status is UserStatus.BLOCKED:
        learner.status = UserStatus.ACTIVE
        learner.blocked_at = None
    await session.flush()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


async def export_data(session: AsyncSession, *, learner: User) -> dict[str, Any]:
    """Everything stored about the learner, as one JSON document (for /mydata)."""
    cohorts = await session.execute(
        select(Cohort.code, Cohort.name, Membership.joined_at)
        .join(Membership, Membership.cohort_id == Cohort.id)
        .where(Membership.user_id == learner.id)
    )
    progress = await session.scalars(
        select(LessonProgress).where(LessonProgress.user_id == learner.id)
    )
    attempts = await session.scalars(select(QuizAttempt).where(QuizAttempt.user_id == learner.id))
    answers = await session.scalars(
        select(Answer)
        .join(QuizAttempt, Answer.attempt_id == QuizAttempt.id)
        .where(QuizAttempt.user_id == learner.id)
    )
    certificates = await session.scalars(
        select(Certificate).where(Certificate.user_id == learner.id)
    )
    activities = await session.scalars(
        select(Activity)
        .where(Activity.user_id == learner.id)
        .order_by(Activity.occurred_at, Activity.id)
    )
    return {
        "profile": {
            "telegram_id": learner.telegram_id,
            "first_name": learner.first_name,
            "last_name": learner.last_name,
            "username": learner.username,
            "language": learner.locale,
            "role": learner.role.value if learner.role else None,
            "country": learner.country,
            "region": learner.region,
            "municipality": learner.municipality,
            "timezone": learner.timezone,
            "reminder_time": learner.reminder_time.isoformat() if learner.reminder_time else None,
            "reminders_enabled": learner.reminders_enabled,
            "quiet_hours": (
                [learner.quiet_hours_start.isoformat(), learner.quiet_hours_end.isoformat()]
                if learner.quiet_hours_start and learner.quiet_hours_end
                else None
            ),
            "privacy_notice_version": learner.consent_version,
            "agreed_at": _iso(learner.consented_at),
            "joined_at": _iso(learner.created_at),
        },
        "cohorts": [
            {"code": code, "name": name, "joined_at": _iso(joined)}
            for code, name, joined in cohorts
        ],
        "lessons": [
            {
                "lesson_id": row.lesson_id,
                "version_id": row.lesson_version_id,
                "status": row.status.value,
                "step": row.step_index,
                "best_score": row.best_score,
                "passed": row.passed,
                "started_at": _iso(row.started_at),
                "completed_at": _iso(row.completed_at),
            }
            for row in progress
        ],
        "quiz_attempts": [
            {
                "id": attempt.id,
                "version_id": attempt.lesson_version_id,
                "score": attempt.score,
                "passed": attempt.passed,
                "started_at": _iso(attempt.started_at),
                "finished_at": _iso(attempt.finished_at),
            }
            for attempt in attempts
        ],
        "answers": [
            {
                "attempt_id": answer.attempt_id,
                "question": answer.question_key,
                "choice": answer.choice,
                "text": answer.text,
                "correct": answer.correct,
                "answered_at": _iso(answer.answered_at),
            }
            for answer in answers
        ],
        "certificates": [
            {
                "code": certificate.code,
                "track_id": certificate.track_id,
                "issued_at": _iso(certificate.issued_at),
            }
            for certificate in certificates
        ],
        "activity": [
            {"verb": row.verb.value, "at": _iso(row.occurred_at), "lesson_id": row.lesson_id}
            for row in activities
        ],
    }


async def erase(session: AsyncSession, *, learner: User) -> None:
    """Remove the learner's personal data for good; what they did stays as anonymous counts.

    The Telegram id, names, place, settings, written answers and the name on certificates go; the
    activity rows keep the role, language and place they recorded, with no way back to the person.
    """
    learner.telegram_id = None
    learner.first_name = learner.last_name = learner.username = None
    learner.municipality = learner.region = learner.timezone = None
    learner.reminder_time = learner.quiet_hours_start = learner.quiet_hours_end = None
    learner.reminders_enabled = False
    learner.status = UserStatus.ERASED
    learner.erased_at = utcnow()
    attempt_ids = select(QuizAttempt.id).where(QuizAttempt.user_id == learner.id).scalar_subquery()
    await session.execute(
        update(Answer).where(Answer.attempt_id.in_(attempt_ids)).values(text=None)
    )
    await session.execute(
        update(Certificate)
        .where(Certificate.user_id == learner.id)
        .values(name_on_certificate=None)
    )
    # Activity rows stay as they are (append-only): their data holds a step number, whether an
    # answer was right, a workshop id; nothing about the person.
    await session.flush()


async def content_locales(session: AsyncSession, learner: User) -> list[str]:
    """The order lesson texts are looked up in: the learner's language, the cohort's, English."""
    return locale_chain(learner.locale, await cohort_locale(session, learner))


# The time zone a learner gets until they choose one: their country's (from the cohort).
COUNTRY_TIMEZONES = {
    "BG": "Europe/Sofia",
    "ES": "Europe/Madrid",
    "BE": "Europe/Brussels",
    "RO": "Europe/Bucharest",
    "FR": "Europe/Paris",
    "NL": "Europe/Amsterdam",
    "GR": "Europe/Athens",
    "MK": "Europe/Skopje",
    "RS": "Europe/Belgrade",
    "AL": "Europe/Tirane",
    "XK": "Europe/Belgrade",
    "BA": "Europe/Sarajevo",
    "ME": "Europe/Podgorica",
    "HU": "Europe/Budapest",
    "SK": "Europe/Bratislava",
    "CZ": "Europe/Prague",
}


@dataclass(frozen=True)
class LearnerSettings:
    locale: str | None
    role: Role | None
    municipality: str | None
    timezone: str
    reminders_enabled: bool
    reminder_time: time | None
    quiet_hours: tuple[time, time] | None


def zone_name(timezone: str | None, country: str | None) -> str:
    """The chosen zone, else the country's, else UTC."""
    return timezone or COUNTRY_TIMEZONES.get(country or "", "UTC")


def zone_of(timezone: str | None, country: str | None) -> ZoneInfo:
    """``zone_name`` as a zone; UTC if the stored name is not one (nothing fails over a zone)."""
    try:
        return ZoneInfo(zone_name(timezone, country))
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def effective_timezone(learner: User) -> str:
    """The learner's chosen zone, else their country's, else UTC."""
    return zone_name(learner.timezone, learner.country)


def settings_of(learner: User) -> LearnerSettings:
    quiet = (
        (learner.quiet_hours_start, learner.quiet_hours_end)
        if learner.quiet_hours_start is not None and learner.quiet_hours_end is not None
        else None
    )
    return LearnerSettings(
        locale=learner.locale,
        role=learner.role,
        municipality=learner.municipality,
        timezone=effective_timezone(learner),
        reminders_enabled=learner.reminders_enabled,
        reminder_time=learner.reminder_time,
        quiet_hours=quiet,
    )


async def set_reminders(
    session: AsyncSession,
    *,
    learner: User,
    enabled: bool | None = None,
    at: time | None = None,
    timezone: str | None = None,
    quiet_hours: tuple[time, time] | bool | None = False,
) -> LearnerSettings:
    """Change reminder settings; ``quiet_hours=None`` clears them, ``False`` leaves them alone."""
    if timezone is not None:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidInput(f"Unknown time zone {timezone!r}.") from None
        learner.timezone = timezone
    if enabled is not None:
        learner.reminders_enabled = enabled
    if at is not None:
        learner.reminder_time, learner.reminders_enabled = at, True
    if quiet_hours is None:
        learner.quiet_hours_start = learner.quiet_hours_end = None
    elif isinstance(quiet_hours, tuple):
        learner.quiet_hours_start, learner.quiet_hours_end = quiet_hours
    await session.flush()
    return settings_of(learner)
