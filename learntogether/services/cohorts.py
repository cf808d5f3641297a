"""Cohorts: the groups mediators keep going, who is in them, and who has fallen behind."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from sqlalchemy import ColumnElement, Select, case, func, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from learntogether.db.base import UTCDateTime, utcnow
from learntogether.db.models import (
    BroadcastKind,
    Cohort,
    LessonProgress,
    Membership,
    ProgressStatus,
    Role,
    Track,
    User,
    UserStatus,
    cohort_mediators,
    cohort_tracks,
)
from learntogether.i18n import SUPPORTED_LOCALES
from learntogether.services import audit, broadcasts
from learntogether.services.actors import Actor
from learntogether.services.errors import N_, Conflict, FieldProblem, InvalidInput

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
# A deep-link payload is at most 64 characters of [A-Za-z0-9_-]; "c-" takes two.
CODE_PATTERN = r"^[A-Za-z0-9_-]{2,32}$"

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Place = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]


class CohortInput(BaseModel):
    """A new cohort, as operators' scripts send it (``POST /api/v1/cohorts``)."""

    model_config = ConfigDict(extra="forbid")

    name: Text
    code: Annotated[str, StringConstraints(pattern=CODE_PATTERN)] | None = None
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] | None = Field(
        default=None, description="ISO 3166-1 alpha-2, e.g. BG"
    )
    region: Place | None = None
    municipality: Place | None = None
    school: Text | None = None
    locale: str | None = None
    tracks: list[Annotated[str, StringConstraints(max_length=64)]] = Field(
        default_factory=list, max_length=100
    )
    nudge_after_days: int = Field(default=7, ge=1, le=90)

    @field_validator("locale")
    @classmethod
    def _known_locale(cls, value: str | None) -> str | None:
        if value is not None and value not in SUPPORTED_LOCALES:
            raise ValueError(f"must be one of {', '.join(SUPPORTED_LOCALES)}")
        return value


@dataclass(frozen=True)
class CohortInfo:
    code: str
    name: str
    country: str | None
    region: str | None
    municipality: str | None
    school: str | None
    locale: str | None
    tracks: list[str]
    nudge_after_days: int
    members: int
    created_at: datetime

    @property
    def invite_payload(self) -> str:
        """What follows ``/start`` in the invite link."""
        return f"c-{self.code}"


@dataclass(frozen=True)
class Member:
    user_id: int
    name: str | None
    role: Role | None
    status: UserStatus
    joined_at: datetime
    last_active_at: datetime | None
    lessons_completed: int
    behind: bool
    """No activity for the cohort's ``nudge_after_days``."""


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _with_tracks() -> Select[Cohort]:
    return select(Cohort).options(selectinload(Cohort.tracks))


async def _member_counts(session: AsyncSession, ids: list[int]) -> dict[int, int]:
    rows = await session.execute(
        select(Membership.cohort_id, func.count())
        .where(Membership.cohort_id.in_(ids))
        .group_by(Membership.cohort_id)
    )
    return {cohort_id: count for cohort_id, count in rows}


def _slugs(cohort: Cohort) -> list[str]:
    return [track.slug for track in sorted(cohort.tracks, key=lambda t: t.position)]


async def _track_slugs(session: AsyncSession, ids: list[int]) -> dict[int, list[str]]:
    """The slugs of each cohort's tracks, in curriculum order, without loading the tracks'
    documents (a page of cohorts holds each track once per cohort)."""
    rows = await session.execute(
        select(cohort_tracks.c.cohort_id, Track.slug)
        .join(Track, Track.id == cohort_tracks.c.track_id)
        .where(cohort_tracks.c.cohort_id.in_(ids))
        .order_by(cohort_tracks.c.cohort_id, Track.position, Track.slug)
    )
    found: dict[int, list[str]] = {}
    for cohort_id, slug in rows:
        found.setdefault(cohort_id, []).append(slug)
    return found


def _info(cohort: Cohort, members: int, tracks: list[str]) -> CohortInfo:
    return CohortInfo(
        code=cohort.code,
        name=cohort.name,
        country=cohort.country,
        region=cohort.region,
        municipality=cohort.municipality,
        school=cohort.school,
        locale=cohort.locale,
        tracks=tracks,
        nudge_after_days=cohort.nudge_after_days,
        members=members,
        created_at=cohort.created_at,
    )


async def find_in_scope(session: AsyncSession, code: str, actor: Actor) -> Cohort:
    """The cohort with ``code`` if the actor may work with it (``Actor.out_of_reach`` otherwise)."""
    actor.check_manages()
    cohort = await session.scalar(_with_tracks().where(Cohort.code == code))
    if cohort is None or not actor.allows(cohort.id):
        raise actor.out_of_reach(
            missing=f"No cohort has the code {code!r}.",
            not_yours=f"Cohort {code!r} is not one of yours.",
        )
    return cohort


async def create_cohort(session: AsyncSession, *, data: CohortInput, actor: Actor) -> CohortInfo:
    """A new cohort with its invite code (drawn when none is given); admins only."""
    actor.check_role()
    tracks = list(await session.scalars(select(Track).where(Track.slug.in_(data.tracks))))
    known = {track.slug for track in tracks}
    unknown = [
        FieldProblem(f"$.tracks[{index}]", N_("no track has the slug '{slug}'", slug=slug))
        for index, slug in enumerate(data.tracks)
        if slug not in known
    ]
    if unknown:
        raise InvalidInput(N_("Some tracks do not exist."), unknown)
    code = data.code or _new_code()
    if await session.scalar(select(Cohort.id).where(func.upper(Cohort.code) == code.upper())):
        raise Conflict(f"A cohort with the code {code!r} exists already.")
    cohort = Cohort(
        code=code,
        name=data.name,
        country=data.country,
        region=data.region,
        municipality=data.municipality,
        school=data.school,
        locale=data.locale,
        nudge_after_days=data.nudge_after_days,
        tracks=tracks,
    )
    try:
        async with session.begin_nested():
            session.add(cohort)
    except IntegrityError:
        # Another request created the same code between the check above and this insert.
        raise Conflict(f"A cohort with the code {code!r} exists already.") from None
    await audit.record_change(
        session,
        actor=actor,
        action="create",
        entity="cohort",
        entity_id=code,
        after=data.model_dump(mode="json") | {"code": code},
    )
    return _info(cohort, 0, _slugs(cohort))


async def list_cohorts(
    session: AsyncSession, *, actor: Actor, limit: int, offset: int
) -> tuple[list[CohortInfo], int]:
    """The live cohorts the actor works with, by name."""
    actor.check_manages()
    query = select(Cohort).where(Cohort.archived_at.is_(None))
    if actor.cohort_ids is not None:
        query = query.where(Cohort.id.in_(actor.cohort_ids))
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    cohorts = list(await session.scalars(query.order_by(Cohort.name).limit(limit).offset(offset)))
    ids = [cohort.id for cohort in cohorts]
    counts = await _member_counts(session, ids)
    slugs = await _track_slugs(session, ids)
    return [
        _info(cohort, counts.get(cohort.id, 0), slugs.get(cohort.id, [])) for cohort in cohorts
    ], total


async def get_cohort(session: AsyncSession, *, code: str, actor: Actor) -> CohortInfo:
    cohort = await find_in_scope(session, code, actor)
    members = (await _member_counts(session, [cohort.id])).get(cohort.id, 0)
    return _info(cohort, members, _slugs(cohort))


def quiet_since(days: int, now: datetime) -> ColumnElement[bool]:
    """A member who has done nothing for ``days`` (since joining, if never active)."""
    return quiet_before(now - timedelta(days=days))


def quiet_before(moment: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
    """A member who has done nothing since ``moment`` (since joining, if never active)."""
    return func.coalesce(User.last_active_at, Membership.joined_at) < moment


def _members_query(cohort: Cohort, now: datetime) -> Select[User, datetime, Any, bool]:
    # Each member's completed lessons, counted for the members only (from the (user, lesson)
    # index): grouping every learner's progress first cost 100 ms for a cohort of 65.
    completed = (
        select(func.count())
        .where(
            LessonProgress.user_id == User.id,
            LessonProgress.status == ProgressStatus.COMPLETED,
        )
        .correlate(User)
        .scalar_subquery()
    )
    return (
        select(
            User,
            Membership.joined_at,
            completed,
            quiet_since(cohort.nudge_after_days, now),
        )
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.cohort_id == cohort.id)
    )


async def members(
    session: AsyncSession,
    *,
    code: str,
    actor: Actor,
    limit: int,
    offset: int = 0,
    behind_only: bool = False,
) -> tuple[list[Member], int]:
    """Who is in the cohort, how far they got, and whether they have gone quiet: a page of them
    in the order they joined, and how many there are."""
    cohort = await find_in_scope(session, code, actor)
    now = utcnow()
    query = _members_query(cohort, now)
    if behind_only:
        query = query.where(
            User.status == UserStatus.ACTIVE, quiet_since(cohort.nudge_after_days, now)
        )
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.execute(
        query.order_by(Membership.joined_at, User.id).limit(limit).offset(offset)
    )
    return [
        Member(
            user_id=user.id,
            name=user.first_name,
            role=user.role,
            status=user.status,
            joined_at=joined_at,
            last_active_at=user.last_active_at,
            lessons_completed=done,
            behind=bool(behind),
        )
        for user, joined_at, done, behind in rows
    ], total


async def add_mediator(session: AsyncSession, *, code: str, user_id: int, actor: Actor) -> None:
    """Let a learner mediate the cohort in the bot (``/cohort``, ``/broadcast``, ``/nudge``);
    admins only."""
    actor.check_role()
    cohort = await find_in_scope(session, code, actor)
    user = await session.get(User, user_id)
    if user is None or user.status is UserStatus.ERASED:
        raise InvalidInput(
            N_("No such learner."),
            [FieldProblem("$.user_id", N_("no learner has the id {id}", id=user_id))],
        )
    exists = await session.scalar(
        select(func.count())
        .select_from(cohort_mediators)
        .where(cohort_mediators.c.cohort_id == cohort.id, cohort_mediators.c.user_id == user_id)
    )
    if exists:
        return
    await session.execute(cohort_mediators.insert().values(cohort_id=cohort.id, user_id=user_id))
    await audit.record_change(
        session,
        actor=actor,
        action="add_mediator",
        entity="cohort",
        entity_id=code,
        after={"user_id": user_id},
    )
    await _tell_mediator(session, user_id=user_id, actor=actor)


async def _tell_mediator(session: AsyncSession, *, user_id: int, actor: Actor) -> None:
    """The learner is told in the bot, and their command menu follows: the notice says which
    groups they mediate when it is sent (``delivery.render``), so quick changes end right."""
    await broadcasts.create_for_learners(
        session, kind=BroadcastKind.MEDIATOR_ROLE, user_ids=[user_id], actor=actor
    )


async def mediated_by(session: AsyncSession, *, user_id: int) -> list[str]:
    """The names of the cohorts a learner mediates (not archived), by name."""
    return list(
        await session.scalars(
            select(Cohort.name)
            .join(cohort_mediators, cohort_mediators.c.cohort_id == Cohort.id)
            .where(cohort_mediators.c.user_id == user_id, Cohort.archived_at.is_(None))
            .order_by(Cohort.name)
        )
    )


@dataclass(frozen=True)
class MediatorInfo:
    user_id: int
    name: str | None
    username: str | None


async def list_mediators(session: AsyncSession, *, code: str, actor: Actor) -> list[MediatorInfo]:
    """The learners who mediate the cohort in the bot, by name."""
    cohort = await find_in_scope(session, code, actor)
    rows = await session.execute(
        select(User.id, User.first_name, User.username)
        .join(cohort_mediators, cohort_mediators.c.user_id == User.id)
        .where(cohort_mediators.c.cohort_id == cohort.id)
        .order_by(User.first_name, User.id)
    )
    return [MediatorInfo(user_id, name, username) for user_id, name, username in rows]


async def remove_mediator(session: AsyncSession, *, code: str, user_id: int, actor: Actor) -> bool:
    """The learner no longer mediates the cohort; False when they did not."""
    actor.check_role()
    cohort = await find_in_scope(session, code, actor)
    removed = await session.execute(
        cohort_mediators.delete().where(
            cohort_mediators.c.cohort_id == cohort.id, cohort_mediators.c.user_id == user_id
        )
    )
    if not removed.rowcount:  # type: ignore[attr-defined]
        return False
    await audit.record_change(
        session,
        actor=actor,
        action="remove_mediator",
        entity="cohort",
        entity_id=code,
        before={"user_id": user_id},
    )
    await _tell_mediator(session, user_id=user_id, actor=actor)
    return True


async def mediated_cohorts(session: AsyncSession, mediator: Actor) -> list[CohortInfo]:
    """The cohorts a learner mediates, for the bot's ``/cohort`` (none for everyone else)."""
    if not mediator.cohort_ids:
        return []
    items, _total = await list_cohorts(session, actor=mediator, limit=100, offset=0)
    return items


async def most_quiet(
    session: AsyncSession, *, actor: Actor, limit: int
) -> list[tuple[CohortInfo, int]]:
    """The live cohorts the actor works with that have the most active members gone quiet (as
    ``quiet_counts`` counts them), most first, then by name; at most ``limit``, and none where
    nobody is quiet.

    One count over the memberships of every cohort at once, each against its own
    ``nudge_after_days``, however many cohorts there are.
    """
    actor.check_manages()
    now = utcnow()
    live = [Cohort.archived_at.is_(None)]
    if actor.cohort_ids is not None:
        live.append(Cohort.id.in_(sorted(actor.cohort_ids)))
    days_in_use = list(
        await session.scalars(select(Cohort.nudge_after_days).where(*live).distinct())
    )
    if not days_in_use:
        return []
    since = case(
        {days: literal(now - timedelta(days=days), UTCDateTime) for days in days_in_use},
        value=Cohort.nudge_after_days,
    )
    quiet = func.count().label("quiet")
    found = (
        await session.execute(
            select(Cohort, quiet)
            .join(Membership, Membership.cohort_id == Cohort.id)
            .join(User, User.id == Membership.user_id)
            .where(*live, User.status == UserStatus.ACTIVE, quiet_before(since))
            .group_by(Cohort.id)
            .order_by(quiet.desc(), Cohort.name)
            .limit(limit)
        )
    ).all()
    ids = [cohort.id for cohort, _ in found]
    members = await _member_counts(session, ids)
    slugs = await _track_slugs(session, ids)
    return [
        (_info(cohort, members.get(cohort.id, 0), slugs.get(cohort.id, [])), count)
        for cohort, count in found
    ]


async def quiet_counts(session: AsyncSession, *, actor: Actor, codes: list[str]) -> dict[str, int]:
    """How many active members of each cohort named have gone quiet (as ``members`` with
    ``behind_only`` counts them), in one query for each ``nudge_after_days`` in use."""
    actor.check_manages()
    now = utcnow()
    rows = await session.execute(
        select(Cohort.id, Cohort.code, Cohort.nudge_after_days).where(Cohort.code.in_(codes))
    )
    codes_by_id: dict[int, str] = {}
    ids_by_days: dict[int, list[int]] = {}
    for cohort_id, code, days in rows:
        if actor.allows(cohort_id):
            codes_by_id[cohort_id] = code
            ids_by_days.setdefault(days, []).append(cohort_id)
    counts = dict.fromkeys(codes_by_id.values(), 0)
    for days, ids in ids_by_days.items():
        quiet = await session.execute(
            select(Membership.cohort_id, func.count())
            .join(User, User.id == Membership.user_id)
            .where(
                Membership.cohort_id.in_(ids),
                User.status == UserStatus.ACTIVE,
                quiet_since(days, now),
            )
            .group_by(Membership.cohort_id)
        )
        for cohort_id, count in quiet:
            counts[codes_by_id[cohort_id]] = count
    return counts
