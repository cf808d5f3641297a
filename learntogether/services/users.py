"""Learners as the admin API sees them: search, one learner, role, export and erasure.

What a caller sees depends on its token. Admins see every learner with their personal data.
Mediators see the learners of their own cohorts, by name (they work with them), but not their
Telegram ids or settings, and only their own cohorts among the learner's. Viewers read reports,
never people: the routes refuse them. An erased learner is anonymous to everyone: the id, the
status and the date of erasure, nothing else.

Exporting and erasing reuse ``learners.export_data`` and ``learners.erase``, so the API gives
exactly what the learner gets from /mydata and erases exactly what /delete erases.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from learntogether.db.models import Cohort, Membership, Role, TokenRole, User, UserStatus
from learntogether.services import learners
from learntogether.services.actors import Actor
from learntogether.services.audit import record_change
from learntogether.services.errors import (
    N_,
    Conflict,
    FieldProblem,
    InvalidInput,
    NotAllowed,
    NotFound,
)

STREAM_PAGE_SIZE = 1000
"""Learners read per page (and per short transaction) while streaming a whole list."""
_LIKE_ESCAPE = "\\"


class LearnerNotFound(NotFound):
    """No such learner, or not one the caller may see."""


@dataclass(frozen=True)
class LearnerRecord:
    """One learner as the caller may see them; what they may not see is None."""

    id: int
    status: UserStatus
    erased_at: datetime | None = None
    first_name: str | None = None
    last_name: str | None = None
    username: str | None = None
    telegram_id: int | None = None
    """Admins only."""
    role: Role | None = None
    locale: str | None = None
    country: str | None = None
    region: str | None = None
    municipality: str | None = None
    cohorts: tuple[str, ...] = ()
    """Codes of the learner's cohorts (a mediator's own only), in the order joined."""
    privacy_notice_version: str | None = None
    """Admins only."""
    joined_at: datetime | None = None
    last_active_at: datetime | None = None
    blocked_at: datetime | None = None


# The columns of a learner list (CSV) for each role that may read one.
ADMIN_FIELDS = (
    "id",
    "status",
    "first_name",
    "last_name",
    "username",
    "telegram_id",
    "role",
    "locale",
    "country",
    "region",
    "municipality",
    "cohorts",
    "privacy_notice_version",
    "joined_at",
    "last_active_at",
    "blocked_at",
    "erased_at",
)
_ADMIN_ONLY = ("telegram_id", "privacy_notice_version")
MEDIATOR_FIELDS = tuple(name for name in ADMIN_FIELDS if name not in _ADMIN_ONLY)


def visible_fields(actor: Actor) -> tuple[str, ...]:
    """The fields of a learner the actor may see, in list order."""
    return ADMIN_FIELDS if actor.is_admin else MEDIATOR_FIELDS


@dataclass(frozen=True)
class LearnerFilter:
    """A checked search, ready for a page or for streaming the whole list."""

    actor: Actor
    conditions: tuple[ColumnElement[bool], ...]


def _scope(actor: Actor) -> ColumnElement[bool] | None:
    """Mediators reach the members of their own cohorts; others everyone."""
    if actor.is_admin:
        return None
    if actor.role is not TokenRole.MEDIATOR:
        raise NotAllowed("Learners are shown to admins and to mediators of their cohorts only.")
    return exists().where(
        Membership.user_id == User.id, Membership.cohort_id.in_(actor.cohort_ids or ())
    )


def _escape_like(text: str) -> str:
    return (
        text.replace(_LIKE_ESCAPE, _LIKE_ESCAPE * 2)
        .replace("%", _LIKE_ESCAPE + "%")
        .replace("_", _LIKE_ESCAPE + "_")
    )


def _matches(q: str) -> list[ColumnElement[bool]]:
    """Every word of ``q`` in a name, the username or the municipality ("ivan sliven")."""
    conditions = []
    for word in q.split():
        pattern = f"%{_escape_like(word.removeprefix('@'))}%"
        conditions.append(
            or_(
                *(
                    column.ilike(pattern, escape=_LIKE_ESCAPE)
                    for column in (
                        User.first_name,
                        User.last_name,
                        User.username,
                        User.municipality,
                    )
                )
            )
        )
    return conditions


async def learner_filter(
    session: AsyncSession,
    *,
    actor: Actor,
    q: str | None = None,
    cohort: str | None = None,
    role: Role | None = None,
    status: UserStatus | None = None,
) -> LearnerFilter:
    """Check a search; InvalidInput names an unknown cohort to an admin, NotAllowed one not the
    mediator's (unknown or another's alike)."""
    conditions: list[ColumnElement[bool]] = []
    scope = _scope(actor)
    if scope is not None:
        conditions.append(scope)
    if cohort is not None:
        cohort_id = await session.scalar(select(Cohort.id).where(Cohort.code == cohort))
        if actor.cohort_ids is not None and cohort_id not in actor.cohort_ids:
            # Unknown or another's alike for a mediator, so no invite code leaks.
            raise NotAllowed(f"Cohort {cohort!r} is not one of yours.")
        if cohort_id is None:
            raise InvalidInput(
                N_("No cohort with code {codes}.", codes=repr(cohort)),
                [FieldProblem("query.cohort", N_("unknown cohort code {code!r}", code=cohort))],
            )
        conditions.append(
            exists().where(Membership.user_id == User.id, Membership.cohort_id == cohort_id)
        )
    if role is not None:
        conditions.append(User.role == role)
    if status is not None:
        conditions.append(User.status == status)
    if q and q.strip():
        conditions.extend(_matches(q))
    return LearnerFilter(actor, tuple(conditions))


async def search_learners(
    session: AsyncSession, search: LearnerFilter, *, limit: int, offset: int
) -> tuple[list[LearnerRecord], int]:
    """One page of the learners a search finds, in the order they joined, and the total."""
    total = await session.scalar(select(func.count()).select_from(User).where(*search.conditions))
    users = list(
        await session.scalars(
            select(User).where(*search.conditions).order_by(User.id).limit(limit).offset(offset)
        )
    )
    return await _records(session, search.actor, users), total or 0


async def stream_learners(
    session_maker: async_sessionmaker[AsyncSession],
    search: LearnerFilter,
    *,
    page_size: int = STREAM_PAGE_SIZE,
) -> AsyncIterator[list[LearnerRecord]]:
    """Every learner a search finds, a page at a time (keyset by id), each in its own session."""
    after_id = 0
    while True:
        async with session_maker() as session:
            users = list(
                await session.scalars(
                    select(User)
                    .where(User.id > after_id, *search.conditions)
                    .order_by(User.id)
                    .limit(page_size)
                )
            )
            records = await _records(session, search.actor, users)
        if not records:
            return
        after_id = records[-1].id
        yield records


async def get_learner(session: AsyncSession, *, actor: Actor, user_id: int) -> LearnerRecord:
    """One learner the actor may see; LearnerNotFound otherwise (as if there were none)."""
    learner = await _find(session, actor=actor, user_id=user_id)
    return (await _records(session, actor, [learner]))[0]


async def set_learner_role(
    session: AsyncSession, *, actor: Actor, user_id: int, role: Role
) -> LearnerRecord:
    """Change a learner's role (it picks the lessons offered); audited. Erased learners: Conflict."""
    learner = await _find(session, actor=actor, user_id=user_id)
    if learner.status is UserStatus.ERASED:
        raise Conflict(f"Learner {user_id} was erased; there is no role to change.")
    before = learner.role
    if before is not role:
        await learners.set_role(session, learner=learner, role=role)
        await _audit(
            session,
            actor,
            "set_role",
            learner,
            before={"role": before.value if before else None},
            after={"role": role.value},
        )
    return (await _records(session, actor, [learner]))[0]


async def export_learner(session: AsyncSession, *, actor: Actor, user_id: int) -> dict[str, Any]:
    """Everything stored about a learner: the document /mydata gives them. The access is audited."""
    learner = await _find(session, actor=actor, user_id=user_id)
    document = await learners.export_data(session, learner=learner)
    await _audit(session, actor, "export", learner)
    return document


async def erase_learner(session: AsyncSession, *, actor: Actor, user_id: int) -> LearnerRecord:
    """Erase a learner's personal data for good, as /delete does; erasing twice changes nothing.

    The audit entry records the status only: a log that kept the name would undo the erasure.
    """
    learner = await _find(session, actor=actor, user_id=user_id)
    if learner.status is not UserStatus.ERASED:
        before = learner.status
        await learners.erase(session, learner=learner)
        await _audit(
            session,
            actor,
            "erase",
            learner,
            before={"status": before.value},
            after={"status": UserStatus.ERASED.value},
        )
    return (await _records(session, actor, [learner]))[0]


async def _find(session: AsyncSession, *, actor: Actor, user_id: int) -> User:
    scope = _scope(actor)
    learner = await session.scalar(
        select(User).where(User.id == user_id, *([scope] if scope is not None else []))
    )
    if learner is None:
        raise LearnerNotFound(f"No learner with id {user_id}.")
    return learner


async def _audit(
    session: AsyncSession,
    actor: Actor,
    action: str,
    learner: User,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    await record_change(
        session,
        actor=actor,
        action=action,
        entity="user",
        entity_id=str(learner.id),
        before=before,
        after=after,
    )
    await session.flush()


async def _cohort_codes(
    session: AsyncSession, actor: Actor, user_ids: Sequence[int]
) -> dict[int, list[str]]:
    if not user_ids:
        return {}
    where = [Membership.user_id.in_(user_ids)]
    if not actor.is_admin:
        where.append(Membership.cohort_id.in_(actor.cohort_ids or ()))
    rows = await session.execute(
        select(Membership.user_id, Cohort.code)
        .join(Cohort, Cohort.id == Membership.cohort_id)
        .where(and_(*where))
        .order_by(Membership.joined_at, Membership.id)
    )
    codes: dict[int, list[str]] = {}
    for user_id, code in rows:
        codes.setdefault(user_id, []).append(code)
    return codes


async def _records(
    session: AsyncSession, actor: Actor, users: Sequence[User]
) -> list[LearnerRecord]:
    present = [user.id for user in users if user.status is not UserStatus.ERASED]
    codes = await _cohort_codes(session, actor, present)
    admin = actor.is_admin
    return [
        LearnerRecord(id=user.id, status=user.status, erased_at=user.erased_at)
        if user.status is UserStatus.ERASED
        else LearnerRecord(
            id=user.id,
            status=user.status,
            first_name=user.first_name,
            last_name=user.last_name,
            username=user.username,
            telegram_id=user.telegram_id if admin else None,
            role=user.role,
            locale=user.locale,
            country=user.country,
            region=user.region,
            municipality=user.municipality,
            cohorts=tuple(codes.get(user.id, ())),
            privacy_notice_version=user.consent_version if admin else None,
            joined_at=user.created_at,
            last_active_at=user.last_active_at,
            blocked_at=user.blocked_at,
        )
        for user in users
    ]
