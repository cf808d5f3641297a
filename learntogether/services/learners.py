"""Learners: joining with consent, their choices, blocking, and seeing or erasing their data.

Nothing is stored about a person before they agree to the privacy notice; a refusal stores
nothing at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, Protocol

from sqlalchemy import Select, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.db import activity_log as activity
from learntogether.db.base import utcnow
from learntogether.db.models import (
    Activity,
    Answer,
    Broadcast,
    Certificate,
    Cohort,
    Event,
    LessonProgress,
    Membership,
    QuizAttempt,
    Review,
    Role,
    User,
    UserStatus,
    Verb,
)
from learntogether.i18n import (
    COMPLETE_LOCALES,
    PARTIAL_LOCALES,
    Locales,
    learner_locales,
    negotiate_locale,
)
from learntogether.services import help as help_desk
from learntogether.services import places, recordings, voice
from learntogether.services.errors import FieldProblem, InvalidInput, NotFound
from learntogether.services.inputs import zone_problem
from learntogether.services.quiet_hours import covers
from learntogether.services.time_zones import COUNTRY_TIMEZONES as COUNTRY_TIMEZONES
from learntogether.services.time_zones import zone_name as zone_name
from learntogether.services.time_zones import zone_of as zone_of
from learntogether.services.time_zones import zones_of

# Bump when the privacy notice changes: learners are asked again.
PRIVACY_VERSION = "2027-01"
COHORT_PAYLOAD_PREFIX = "c-"
EVENT_PAYLOAD_PREFIX = "e-"


class CohortNotFound(NotFound):
    """A join link whose cohort does not exist or is closed."""


class ReminderInQuietHours(InvalidInput):
    """A daily reminder time inside the learner's quiet hours, or quiet hours over it: refused
    with the reason, never moved silently."""

    def __init__(self, *, at: time, quiet: tuple[time, time], field: str) -> None:
        self.at, self.quiet = at, quiet
        reason = (
            f"a reminder at {at:%H:%M} falls in the quiet hours"
            f" {quiet[0]:%H:%M}–{quiet[1]:%H:%M}, when nothing is sent"
        )
        super().__init__(f"{reason[0].upper()}{reason[1:]}.", [FieldProblem(field, reason)])


@dataclass(frozen=True)
class JoinedCohort:
    code: str
    name: str
    locale: str | None
    already_member: bool


async def find_learner(session: AsyncSession, telegram_id: int) -> User | None:
    """The learner behind a Telegram account, if they ever agreed to the notice."""
    return await session.scalar(select(User).where(User.telegram_id == telegram_id))


def _learner_and_cohort() -> Select[User, int, str | None]:
    newest = (
        select(Membership.cohort_id)
        .where(Membership.user_id == User.id)
        .order_by(Membership.joined_at.desc(), Membership.id.desc())
        .limit(1)
        .correlate(User)
        .scalar_subquery()
    )
    return (
        select(User, Cohort.id, Cohort.locale)
        .outerjoin(Cohort, Cohort.id == newest)
        .where(User.telegram_id == bindparam("telegram_id"))
    )


# Built once: every update runs it, and SQLAlchemy keys its compiled statements by the statement.
_LEARNER_AND_COHORT = _learner_and_cohort()


async def find_learner_and_cohort(
    session: AsyncSession, telegram_id: int
) -> tuple[User | None, dict[int, str | None]]:
    """``find_learner`` and, in the same query, the locale of the cohort they joined last (as
    ``locales`` takes it in ``joined``: no entry when they are in no cohort)."""
    row = (await session.execute(_LEARNER_AND_COHORT, {"telegram_id": telegram_id})).first()
    if row is None:
        return None, {}
    learner, cohort_id, locale = row
    return learner, ({learner.id: locale} if cohort_id is not None else {})


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
    reads_locale: str | None = None,
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
    learner.reads_locale = reads_locale if locale in PARTIAL_LOCALES else None
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


class Speaker(Protocol):
    """Whoever has a saved language: a learner, or a delivery's recipient."""

    @property
    def id(self) -> int: ...

    @property
    def locale(self) -> str | None: ...

    @property
    def reads_locale(self) -> str | None: ...


async def locales(
    session: AsyncSession,
    learner: User | None,
    *,
    default_locale: str,
    chosen: str | None = None,
    telegram: str | None = None,
    invite_cohort: str | None = None,
    reads: str | None = None,
    joined: dict[int, str | None] | None = None,
) -> Locales:
    """The languages of the person behind an update: the one locale policy
    (``i18n.learner_locales``) with ``default_locale`` as ``LT_DEFAULT_LOCALE``.

    Their own language is the one ``chosen`` during onboarding and not saved yet, else their saved
    one, else Telegram's (``telegram``); their cohort's is that of the cohort they joined last,
    else, before they are in one, of the cohort their invite link names (``invite_cohort``).
    The language they read best is the one ``reads`` during onboarding, else their saved one.
    ``joined``: the learner's newest cohort's locale if already read (``find_learner_and_cohort``).
    """
    own = negotiate_locale(chosen, learner.locale if learner else None, telegram)
    if joined is None:
        joined = await _newest_cohort_locales(session, [learner.id]) if learner else {}
    if learner is not None and learner.id in joined:
        cohort = joined[learner.id]
    elif invite_cohort:
        cohort = await session.scalar(select(Cohort.locale).where(Cohort.code == invite_cohort))
    else:
        cohort = None
    best = negotiate_locale(reads, learner.reads_locale if learner else None)
    return learner_locales(own, cohort, default=default_locale, reads=best)


async def locales_of(
    session: AsyncSession, people: Sequence[Speaker], *, default_locale: str
) -> dict[int, Locales]:
    """``locales`` of many learners by their saved languages, in one query, by learner id."""
    cohorts = await _newest_cohort_locales(session, [person.id for person in people])
    return {
        person.id: learner_locales(
            negotiate_locale(person.locale),
            cohorts.get(person.id),
            default=default_locale,
            reads=negotiate_locale(person.reads_locale),
        )
        for person in people
    }


async def _newest_cohort_locales(
    session: AsyncSession, user_ids: Sequence[int]
) -> dict[int, str | None]:
    """The locale of the cohort each learner joined last (no entry: in no cohort)."""
    if not user_ids:
        return {}
    newest: dict[int, str | None] = {}
    memberships = await session.execute(
        select(Membership.user_id, Cohort.locale)
        .join(Cohort, Cohort.id == Membership.cohort_id)
        .where(Membership.user_id.in_(set(user_ids)))
        .order_by(Membership.joined_at, Membership.id)
    )
    for user_id, locale in memberships:
        newest[user_id] = locale  # later memberships overwrite earlier ones
    return newest


async def set_locale(
    session: AsyncSession, *, learner: User, locale: str, reads: str | None = None
) -> None:
    """The learner's language; with a partial one (Romani) also the one they read best, which
    must be a complete language (a complete language needs none)."""
    if locale in PARTIAL_LOCALES and reads is not None and reads not in COMPLETE_LOCALES:
        problem = f"'{reads}' is not a language every text is in"
        raise InvalidInput(problem, [FieldProblem("$.reads_locale", problem)])
    learner.locale = locale
    if locale not in PARTIAL_LOCALES:
        learner.reads_locale = None
    elif reads is not None:
        learner.reads_locale = reads
    await session.flush()


async def set_role(session: AsyncSession, *, learner: User, role: Role) -> None:
    learner.role = role
    await session.flush()


async def set_municipality(
    session: AsyncSession, *, learner: User, municipality: str | None
) -> str | None:
    """Optional: lets mediators and reports see participation by place; blank clears it.

    A place already known in another spelling ("Сливен", "SLIVEN") is stored as it is known
    ("Sliven"); returns what was stored."""
    learner.municipality = await places.canonical_place(
        session, name=municipality, except_learner=learner.id
    )
    await session.flush()
    return learner.municipality


SEEN_PRECISION = timedelta(minutes=5)
"""How stale ``last_active_at`` may be: it decides who is quiet for days (nudges, reminders), so
a learner pressing through a lesson is not written back on every press."""


async def mark_seen(session: AsyncSession, *, learner: User) -> None:
    """The learner wrote or pressed a button: active again, if they had blocked the bot."""
    now = utcnow()
    if learner.status is not UserStatus.BLOCKED and (
        learner.last_active_at is not None and now - learner.last_active_at < SEEN_PRECISION
    ):
        return
    learner.last_active_at = now
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
    reviews = await session.scalars(
        select(Review).where(Review.user_id == learner.id).order_by(Review.id)
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
            "name_on_certificates": learner.certificate_name,
            "language": learner.locale,
            "reads_best": learner.reads_locale,
            "role": learner.role.value if learner.role else None,
            "country": learner.country,
            "region": learner.region,
            "municipality": learner.municipality,
            "timezone": learner.timezone,
            "reminder_time": learner.reminder_time.isoformat() if learner.reminder_time else None,
            "reminders_enabled": learner.reminders_enabled,
            "prefers_listening": learner.prefers_audio,
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
                "voice_note_sha256": answer.audio_sha256,
                "correct": answer.correct,
                "answered_at": _iso(answer.answered_at),
            }
            for answer in answers
        ],
        "certificates": [
            {
                "code": certificate.code,
                "track_id": certificate.track_id,
                "name": certificate.name_on_certificate,
                "issued_at": _iso(certificate.issued_at),
            }
            for certificate in certificates
        ],
        "reviews": [
            {
                "lesson_id": row.lesson_id,
                "after_days": row.after_days,
                "questions": row.question_keys,
                "due_at": _iso(row.due_at),
                "status": row.status.value,
                "correct": row.correct,
            }
            for row in reviews
        ],
        "activity": [
            {"verb": row.verb.value, "at": _iso(row.occurred_at), "lesson_id": row.lesson_id}
            for row in activities
        ],
        "questions_to_mediators": await help_desk.export_of(session, learner=learner),
        "recordings": await recordings.export_of(session, learner=learner),
    }


async def erase(session: AsyncSession, *, learner: User) -> None:
    """Remove the learner's personal data for good; what they did stays as anonymous counts.

    The Telegram id, names, place, settings, written and spoken answers (the voice notes'
    bytes too), reviews and the name on certificates go; a mediator's recordings are withdrawn
    or, once published, no longer credited to them (``recordings.erase_of``); the activity rows
    keep the role, language and place they recorded, with no way back to the person.
    """
    learner.telegram_id = None
    learner.first_name = learner.last_name = learner.username = None
    learner.certificate_name = None
    learner.municipality = learner.region = learner.timezone = None
    learner.reminder_time = learner.quiet_hours_start = learner.quiet_hours_end = None
    learner.reminders_enabled = learner.prefers_audio = False
    learner.status = UserStatus.ERASED
    learner.erased_at = utcnow()
    attempt_ids = select(QuizAttempt.id).where(QuizAttempt.user_id == learner.id).scalar_subquery()
    voice_notes = await session.scalars(
        select(Answer.audio_sha256).where(
            Answer.attempt_id.in_(attempt_ids), Answer.audio_sha256.is_not(None)
        )
    )
    spoken = [sha256 for sha256 in voice_notes if sha256 is not None]
    await session.execute(
        update(Answer)
        .where(Answer.attempt_id.in_(attempt_ids))
        .values(text=None, audio_sha256=None)
    )
    await voice.discard_unused(session, spoken)
    await recordings.erase_of(session, learner=learner)
    await session.execute(
        update(Certificate)
        .where(Certificate.user_id == learner.id)
        .values(name_on_certificate=None)
    )
    await help_desk.erase_of(session, learner=learner)
    # Which questions they got wrong, and when they would be asked again, go too.
    await session.execute(delete(Review).where(Review.user_id == learner.id))
    # A mediator's chat, where the delivery worker kept their broadcasts' status and their
    # workshops' QR counts up to date, is no longer written to or kept.
    await session.execute(
        update(Broadcast)
        .where(Broadcast.created_by_user_id == learner.id, Broadcast.status_chat_id.is_not(None))
        .values(status_chat_id=None, status_message_id=None, status_digest=None)
    )
    await session.execute(
        update(Event)
        .where(Event.qr_user_id == learner.id)
        .values(qr_user_id=None, qr_chat_id=None, qr_message_id=None, qr_shown=None)
    )
    # Activity rows stay as they are (append-only): their data holds a step number, whether an
    # answer was right, a workshop id; nothing about the person.
    await session.flush()


@dataclass(frozen=True)
class LearnerSettings:
    locale: str | None
    role: Role | None
    municipality: str | None
    timezone: str
    reminders_enabled: bool
    reminder_time: time | None
    quiet_hours: tuple[time, time] | None
    prefers_audio: bool
    """"I'd rather listen": recorded steps come as voice notes."""


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
        prefers_audio=learner.prefers_audio,
    )


async def set_listening(session: AsyncSession, *, learner: User, prefers_audio: bool) -> None:
    """ "I'd rather listen" (or read): steps recorded in the learner's language then come as
    voice notes; steps without a recording stay text."""
    learner.prefers_audio = prefers_audio
    await session.flush()


async def set_reminders(
    session: AsyncSession,
    *,
    learner: User,
    enabled: bool | None = None,
    at: time | None = None,
    timezone: str | None = None,
    country: str | None = None,
    quiet_hours: tuple[time, time] | bool | None = False,
) -> LearnerSettings:
    """Change reminder settings; ``quiet_hours=None`` clears them, ``False`` leaves them alone.

    A reminder time inside quiet hours (or quiet hours over the reminder time) is refused with
    ``ReminderInQuietHours``. ``country`` with ``timezone``: the zone is the country's (checked),
    and a learner with no country yet takes it, so that their clock is their country's.
    """
    if timezone is not None:
        problem = zone_problem(timezone)
        if problem is None and country is not None and timezone not in zones_of(country):
            problem = f"'{timezone}' is not a time zone of the country {country}"
        if problem is not None:
            raise InvalidInput(problem, [FieldProblem("$.timezone", problem)])
    if quiet_hours is False:
        quiet = settings_of(learner).quiet_hours
    else:
        quiet = quiet_hours if isinstance(quiet_hours, tuple) else None
    reminder = at if at is not None else learner.reminder_time
    if (
        reminder is not None
        and quiet is not None
        and covers(reminder, start=quiet[0], end=quiet[1])
    ):
        field = "$.reminder_time" if at is not None else "$.quiet_hours"
        raise ReminderInQuietHours(at=reminder, quiet=quiet, field=field)
    if timezone is not None:
        learner.timezone = timezone
        if country is not None and learner.country is None:
            learner.country = country
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


def needs_zone(learner: User) -> bool:
    """Whether the learner's clock is unknown: no zone chosen and no country (from a cohort or
    their choice) to take one from. Such a learner is asked for their country."""
    return learner.timezone is None and learner.country is None
