"""API tokens: creation, listing, revocation and authentication. Only a hash of a secret is kept."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from learntogether.db.base import utcnow
from learntogether.db.models import ApiToken, Cohort, TokenRole
from learntogether.services.actors import Actor
from learntogether.services.audit import record_change
from learntogether.services.errors import (
    N_,
    Conflict,
    FieldProblem,
    InvalidInput,
    InvalidToken,
    NotFound,
)

TOKEN_PREFIX = "lt"  # noqa: S105 (the public start of every token)
# Writing last_used_at on every request would serialize SQLite writers for nothing.
LAST_USED_RESOLUTION = timedelta(minutes=1)
_DUMMY_HASH = hashlib.sha256(b"no such token").hexdigest()
NAME_LENGTH = 64
"""Room for ``token:<name>`` in the audit log's and broadcasts' 100-character actor columns."""


@dataclass(frozen=True)
class TokenInfo:
    id: int
    name: str
    role: TokenRole
    prefix: str
    cohorts: list[str]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class CreatedToken:
    info: TokenInfo
    secret: str
    """The whole bearer token; shown once, never stored."""


async def _check_name_free(session: AsyncSession, name: str) -> None:
    taken = await session.scalar(
        select(ApiToken.id).where(ApiToken.name == name, ApiToken.revoked_at.is_(None))
    )
    if taken is not None:
        raise Conflict(
            N_(
                "A live token is already named {name!r}: choose another name, or revoke that one "
                "first.",
                name=name,
            )
        )


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _info(token: ApiToken) -> TokenInfo:
    return TokenInfo(
        id=token.id,
        name=token.name,
        role=token.role,
        prefix=token.prefix,
        cohorts=sorted(cohort.code for cohort in token.cohorts),
        created_at=token.created_at,
        last_used_at=token.last_used_at,
        revoked_at=token.revoked_at,
    )


async def create_token(
    session: AsyncSession,
    *,
    name: str,
    role: TokenRole,
    cohort_codes: list[str] | None = None,
    actor: Actor,
) -> CreatedToken:
    """Create a token; a mediator token is scoped to the cohorts named (at least one).

    Its name is unique among live tokens, so the audit log can tell who acted.
    """
    name = name.strip()
    codes = sorted(set(cohort_codes or []))
    if not name:
        raise InvalidInput(
            N_("A token needs a name."), [FieldProblem("$.name", N_("must not be empty"))]
        )
    if len(name) > NAME_LENGTH:
        raise InvalidInput(
            N_("The token's name is too long."),
            [
                FieldProblem(
                    "$.name",
                    N_(
                        "at most {limit} characters, not {length}",
                        limit=NAME_LENGTH,
                        length=len(name),
                    ),
                )
            ],
        )
    if role is TokenRole.MEDIATOR and not codes:
        raise InvalidInput(
            N_("A mediator token needs at least one cohort."),
            [FieldProblem("$.cohorts", N_("name the cohorts this mediator works with"))],
        )
    if role is not TokenRole.MEDIATOR and codes:
        raise InvalidInput(
            N_("Only mediator tokens are scoped to cohorts."),
            [
                FieldProblem(
                    "$.cohorts",
                    N_("an admin token reaches every cohort")
                    if role is TokenRole.ADMIN
                    else N_("a viewer token reaches every cohort"),
                )
            ],
        )
    cohorts = list((await session.scalars(select(Cohort).where(Cohort.code.in_(codes)))).all())
    missing = sorted(set(codes) - {cohort.code for cohort in cohorts})
    if missing:
        raise InvalidInput(
            N_("No cohort with code {codes}.", codes=", ".join(missing)),
            [
                FieldProblem("$.cohorts", N_("unknown cohort code {code!r}", code=code))
                for code in missing
            ],
        )
    await _check_name_free(session, name)
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    token = ApiToken(
        name=name, role=role, prefix=prefix, secret_hash=_hash(secret), cohorts=cohorts
    )
    try:
        async with session.begin_nested():
            session.add(token)
    except IntegrityError:
        # Another request took the name between the check and the insert.
        await _check_name_free(session, name)
        raise
    info = _info(token)
    await record_change(
        session,
        actor=actor,
        action="create",
        entity="token",
        entity_id=str(token.id),
        after={"name": name, "role": role.value, "cohorts": codes},
    )
    return CreatedToken(info=info, secret=f"{TOKEN_PREFIX}_{prefix}_{secret}")


async def list_tokens(
    session: AsyncSession, *, limit: int, offset: int, include_revoked: bool = True
) -> tuple[list[TokenInfo], int]:
    """Tokens without their secrets, newest first, with the total count."""
    query = select(ApiToken)
    if not include_revoked:
        query = query.where(ApiToken.revoked_at.is_(None))
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    tokens = await session.scalars(
        query.options(selectinload(ApiToken.cohorts))
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [_info(token) for token in tokens], total


async def _find(session: AsyncSession, reference: str) -> ApiToken:
    """A token by id, prefix or name."""
    condition = ApiToken.prefix == reference
    if reference.isdigit():
        condition = condition | (ApiToken.id == int(reference))
    tokens = list(
        await session.scalars(
            select(ApiToken)
            .where(condition | (ApiToken.name == reference))
            .options(selectinload(ApiToken.cohorts))
        )
    )
    if not tokens:
        raise NotFound(f"No token with id, prefix or name {reference!r}.")
    if len(tokens) > 1:
        raise InvalidInput(
            f"{len(tokens)} tokens match {reference!r}; use the id.",
            [FieldProblem("$.token", "ambiguous reference")],
        )
    return tokens[0]


async def revoke_token(session: AsyncSession, *, reference: str, actor: Actor) -> TokenInfo:
    """Revoke a token (by id, prefix or name); revoking twice is harmless.

    Through the API the last live admin token cannot be revoked (Conflict): nobody could then
    manage tokens but from the command line, which may revoke it.
    """
    token = await _find(session, reference)
    if token.revoked_at is None:
        if token.role is TokenRole.ADMIN and actor.token_id is not None:
            await _check_not_last_admin(session, token)
        token.revoked_at = utcnow()
        await record_change(
            session,
            actor=actor,
            action="revoke",
            entity="token",
            entity_id=str(token.id),
            before={"revoked": False},
            after={"revoked": True},
        )
        await session.flush()
    return _info(token)


@dataclass(frozen=True)
class RevokePreview:
    """What revoking a token would end, for a confirmation."""

    token: TokenInfo
    last_admin: bool
    """It is the last live admin token: no script could manage the platform through the API."""


async def revoke_preview(session: AsyncSession, *, token_id: int, actor: Actor) -> RevokePreview:
    """The token an admin is about to revoke, and whether it is the last live admin token."""
    actor.check_role()
    token = await session.scalar(
        select(ApiToken).where(ApiToken.id == token_id).options(selectinload(ApiToken.cohorts))
    )
    if token is None:
        raise NotFound(f"No token with id {token_id}.")
    last = (
        token.role is TokenRole.ADMIN
        and token.revoked_at is None
        and not await _other_live_admins(session, token)
    )
    return RevokePreview(token=_info(token), last_admin=last)


async def _other_live_admins(session: AsyncSession, token: ApiToken) -> int:
    found = await session.scalar(
        select(func.count()).where(
            ApiToken.role == TokenRole.ADMIN,
            ApiToken.revoked_at.is_(None),
            ApiToken.id != token.id,
        )
    )
    return found or 0


async def _check_not_last_admin(session: AsyncSession, token: ApiToken) -> None:
    others = await _other_live_admins(session, token)
    if not others:
        raise Conflict(
            f"Token {token.name!r} is the last admin token: create another admin token before "
            "revoking it, or revoke it with 'learntogether token revoke'."
        )


def split_token(bearer: str) -> tuple[str, str]:
    """``lt_<prefix>_<secret>`` → (prefix, secret); ("", "") for anything else.

    The prefix is hex; the secret is URL-safe base64 and may itself contain underscores.
    """
    parts = bearer.split("_", 2)
    return (parts[1], parts[2]) if len(parts) == 3 and parts[0] == TOKEN_PREFIX else ("", "")


async def authenticate(session: AsyncSession, *, bearer: str) -> Actor:
    """Who calls with a bearer token, or InvalidToken (the same answer for every failure)."""
    prefix, secret = split_token(bearer)
    token = (
        await session.scalar(
            select(ApiToken)
            .where(ApiToken.prefix == prefix)
            .options(selectinload(ApiToken.cohorts))
        )
        if prefix
        else None
    )
    expected = token.secret_hash if token is not None else _DUMMY_HASH
    if (
        not hmac.compare_digest(expected, _hash(secret))
        or token is None
        or token.revoked_at is not None
    ):
        raise InvalidToken("The token is missing, unknown or revoked.")
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        token.last_used_at = now
        await session.flush()
    return Actor.token(
        token_id=token.id,
        name=token.name,
        role=token.role,
        cohort_ids=frozenset(cohort.id for cohort in token.cohorts),
    )
