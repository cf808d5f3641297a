"""Staff sessions of the web console: one-time sign-in links, sessions, sign-out and their list.

Nobody has a password. ``learntogether console link`` (or ``/console`` in the bot, for a mediator)
makes a link valid for ``LINK_LIFETIME`` that opens one session, once. The session's secret lives
in an HttpOnly cookie; the database keeps only hashes of both secrets. A session ends on sign-out,
when an admin ends it, after ``IDLE_TIMEOUT`` without a request, and at the latest ``MAX_AGE``
after sign-in. Each session acts as one ``Actor``, with the same roles and cohort scope as a token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CursorResult, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from learntogether.db.base import utcnow
from learntogether.db.models import Cohort, ConsoleSession, TokenRole, User, UserStatus
from learntogether.services.actors import Actor, mediator_actor
from learntogether.services.audit import record_change
from learntogether.services.errors import (
    FieldProblem,
    InvalidInput,
    InvalidToken,
    NotAllowed,
    NotFound,
)

LINK_LIFETIME = timedelta(minutes=15)
IDLE_TIMEOUT = timedelta(hours=8)
MAX_AGE = timedelta(days=7)
# Writing last_seen_at on every page would serialize SQLite writers for nothing.
SEEN_RESOLUTION = timedelta(minutes=1)
SIGN_IN_PATH = "/signin/"
NAME_LENGTH = 64
_AGENT_LENGTH = 200


@dataclass(frozen=True)
class SignInLink:
    url: str
    expires_at: datetime
    session_id: int


@dataclass(frozen=True)
class StaffSessionInfo:
    id: int
    name: str
    role: TokenRole
    user_id: int | None
    cohorts: list[str]
    created_at: datetime
    created_by: str
    signed_in_at: datetime | None
    last_seen_at: datetime | None
    user_agent: str | None
    ended_at: datetime | None
    ended_by: str | None


@dataclass(frozen=True)
class SignedIn:
    """Who is behind a session cookie, for one request."""

    session_id: int
    name: str
    actor: Actor
    csrf_token: str


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def csrf_token(session_secret: str) -> str:
    """The token every form of this session carries; derived, so nothing more is stored."""
    return hmac.new(session_secret.encode(), b"console csrf", hashlib.sha256).hexdigest()


def check_csrf(signed_in: SignedIn, token: str | None) -> None:
    if token is None or not hmac.compare_digest(signed_in.csrf_token, token):
        raise NotAllowed("The form is out of date or did not come from the console; try again.")


def _info(row: ConsoleSession) -> StaffSessionInfo:
    return StaffSessionInfo(
        id=row.id,
        name=row.name,
        role=row.role,
        user_id=row.user_id,
        cohorts=sorted(cohort.code for cohort in row.cohorts),
        created_at=row.created_at,
        created_by=row.created_by,
        signed_in_at=row.signed_in_at,
        last_seen_at=row.last_seen_at,
        user_agent=row.user_agent,
        ended_at=row.ended_at,
        ended_by=row.ended_by,
    )


async def create_link(
    session: AsyncSession,
    *,
    base_url: str,
    name: str,
    role: TokenRole,
    cohort_codes: list[str] | None = None,
    actor: Actor,
) -> SignInLink:
    """A one-time sign-in link for a staff member; a mediator's names the cohorts they reach."""
    name = name.strip()
    codes = sorted(set(cohort_codes or []))
    if not name or len(name) > NAME_LENGTH:
        raise InvalidInput(
            "A sign-in link needs a name.",
            [FieldProblem("$.name", f"1 to {NAME_LENGTH} characters")],
        )
    if (role is TokenRole.MEDIATOR) != bool(codes):
        raise InvalidInput(
            "Only a mediator's sign-in names cohorts, and it needs at least one.",
            [FieldProblem("$.cohorts", "name the mediator's cohorts, and only theirs")],
        )
    cohorts = list(await session.scalars(select(Cohort).where(Cohort.code.in_(codes))))
    missing = sorted(set(codes) - {cohort.code for cohort in cohorts})
    if missing:
        raise InvalidInput(
            f"No cohort with code {', '.join(missing)}.",
            [FieldProblem("$.cohorts", f"unknown cohort code {code!r}") for code in missing],
        )
    return await _new_link(
        session, base_url=base_url, name=name, role=role, cohorts=cohorts, user=None, actor=actor
    )


async def create_mediator_link(session: AsyncSession, *, base_url: str, actor: Actor) -> SignInLink:
    """``/console`` in the bot: a sign-in link for a learner who mediates at least one cohort."""
    if actor.user_id is None or not actor.cohort_ids:
        raise NotAllowed("Only mediators of a cohort can open the console.")
    user = await session.get(User, actor.user_id)
    if user is None or user.status is not UserStatus.ACTIVE:
        raise NotAllowed("Only mediators of a cohort can open the console.")
    name = (user.first_name or actor.name)[:NAME_LENGTH]
    return await _new_link(
        session,
        base_url=base_url,
        name=name,
        role=TokenRole.MEDIATOR,
        cohorts=[],
        user=user,
        actor=actor,
    )


async def _new_link(
    session: AsyncSession,
    *,
    base_url: str,
    name: str,
    role: TokenRole,
    cohorts: list[Cohort],
    user: User | None,
    actor: Actor,
) -> SignInLink:
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    row = ConsoleSession(
        name=name,
        role=role,
        user_id=user.id if user is not None else None,
        link_hash=_hash(secret),
        link_expires_at=now + LINK_LIFETIME,
        created_at=now,
        created_by=actor.name,
        cohorts=cohorts,
    )
    session.add(row)
    await session.flush()
    await record_change(
        session,
        actor=actor,
        action="create",
        entity="console_session",
        entity_id=str(row.id),
        after={
            "name": name,
            "role": role.value,
            "cohorts": sorted(cohort.code for cohort in cohorts),
            "user_id": row.user_id,
        },
    )
    url = f"{base_url.rstrip('/')}{SIGN_IN_PATH}{secret}"
    return SignInLink(url=url, expires_at=row.link_expires_at, session_id=row.id)


async def _unused_link(session: AsyncSession, link_secret: str, now: datetime) -> ConsoleSession:
    row = await session.scalar(
        select(ConsoleSession).where(ConsoleSession.link_hash == _hash(link_secret))
    )
    if (
        row is None
        or row.session_hash is not None
        or row.ended_at is not None
        or row.link_expires_at <= now
    ):
        raise InvalidToken("This sign-in link is unknown, used or expired.")
    return row


async def check_link(session: AsyncSession, *, link_secret: str) -> str:
    """The name a sign-in link is for, if it can still be used (InvalidToken otherwise)."""
    return (await _unused_link(session, link_secret, utcnow())).name


async def redeem_link(
    session: AsyncSession, *, link_secret: str, user_agent: str | None = None
) -> str:
    """Open the session a link was made for, once: the session's secret, for the cookie."""
    now = utcnow()
    row = await _unused_link(session, link_secret, now)
    secret = secrets.token_urlsafe(32)
    # Only the first of two clicks arriving together opens a session: the row changes once.
    opened: CursorResult[Any] = await session.execute(  # type: ignore[assignment]
        update(ConsoleSession)
        .where(ConsoleSession.id == row.id, ConsoleSession.session_hash.is_(None))
        .values(
            session_hash=_hash(secret),
            signed_in_at=now,
            last_seen_at=now,
            user_agent=(user_agent or "")[:_AGENT_LENGTH] or None,
        ),
        execution_options={"synchronize_session": False},
    )
    if opened.rowcount != 1:
        raise InvalidToken("This sign-in link is unknown, used or expired.")
    return secret


def _expired(row: ConsoleSession, now: datetime) -> bool:
    seen = row.last_seen_at or row.signed_in_at or row.created_at
    started = row.signed_in_at or row.created_at
    return now - seen >= IDLE_TIMEOUT or now - started >= MAX_AGE


async def authenticate(session: AsyncSession, *, session_secret: str) -> SignedIn:
    """Who a session cookie belongs to, or InvalidToken for an unknown, ended or expired one."""
    now = utcnow()
    row = await session.scalar(
        select(ConsoleSession)
        .where(ConsoleSession.session_hash == _hash(session_secret))
        .options(selectinload(ConsoleSession.cohorts))
    )
    if row is None or row.ended_at is not None or _expired(row, now):
        raise InvalidToken("Your console session has ended; sign in again.")
    if row.user_id is not None:
        user = await session.get(User, row.user_id)
        if user is None or user.status is not UserStatus.ACTIVE:
            raise InvalidToken("Your console session has ended; sign in again.")
        actor = await mediator_actor(session, user)
    else:
        actor = Actor(
            name=f"staff:{row.name}",
            role=row.role,
            cohort_ids=(
                frozenset(cohort.id for cohort in row.cohorts)
                if row.role is TokenRole.MEDIATOR
                else None
            ),
        )
    if row.last_seen_at is None or now - row.last_seen_at >= SEEN_RESOLUTION:
        row.last_seen_at = now
        await session.flush()
    return SignedIn(
        session_id=row.id, name=row.name, actor=actor, csrf_token=csrf_token(session_secret)
    )


async def sign_out(session: AsyncSession, *, signed_in: SignedIn) -> None:
    """End one's own session (audited as an admin's ending of it is)."""
    row = await session.get(ConsoleSession, signed_in.session_id)
    if row is not None:
        await _end(session, row, signed_in.actor)


async def list_sessions(
    session: AsyncSession, *, actor: Actor, limit: int, offset: int, live_only: bool = True
) -> tuple[list[StaffSessionInfo], int]:
    """Staff sessions, newest first (admins only); live ones are signed in, not ended and not
    expired (``IDLE_TIMEOUT`` since the last request, ``MAX_AGE`` since signing in)."""
    actor.check_role()
    query = select(ConsoleSession)
    if live_only:
        now = utcnow()
        query = query.where(
            ConsoleSession.ended_at.is_(None),
            ConsoleSession.signed_in_at > now - MAX_AGE,
            ConsoleSession.last_seen_at > now - IDLE_TIMEOUT,
        )
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(
        query.options(selectinload(ConsoleSession.cohorts))
        .order_by(ConsoleSession.created_at.desc(), ConsoleSession.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [_info(row) for row in rows], total


async def end_session(session: AsyncSession, *, session_id: int, actor: Actor) -> StaffSessionInfo:
    """An admin ends a staff session (or an unused link); ending twice is harmless."""
    actor.check_role()
    row = await session.scalar(
        select(ConsoleSession)
        .where(ConsoleSession.id == session_id)
        .options(selectinload(ConsoleSession.cohorts))
    )
    if row is None:
        raise NotFound(f"No console session {session_id}.")
    await _end(session, row, actor)
    return _info(row)


async def _end(session: AsyncSession, row: ConsoleSession, actor: Actor) -> None:
    """End a session once, in the audit log; ending it again changes nothing."""
    if row.ended_at is not None:
        return
    row.ended_at = utcnow()
    row.ended_by = actor.name
    await record_change(
        session,
        actor=actor,
        action="end",
        entity="console_session",
        entity_id=str(row.id),
        before={"ended": False},
        after={"ended": True},
    )
    await session.flush()


def base_url(public_url: str | None, host: str, port: int) -> str:
    """Where staff open the console: ``LT_PUBLIC_URL``, else the API's own address."""
    if public_url:
        return public_url
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"
