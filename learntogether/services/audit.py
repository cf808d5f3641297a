"""The audit log: who changed what, through the API, the bot, the scheduler or the command line."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.db.models import AuditLog
from learntogether.services.actors import Actor


async def record_change(
    session: AsyncSession,
    *,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Append one audit entry, naming the actor and their token or learner id; it commits with
    the change it describes."""
    session.add(
        AuditLog(
            actor=actor.name,
            actor_token_id=actor.token_id,
            actor_user_id=actor.user_id,
            action=action,
            entity=entity,
            entity_id=entity_id,
            before=before,
            after=after,
        )
    )


@dataclass(frozen=True)
class AuditEntry:
    id: int
    occurred_at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


async def list_entries(
    session: AsyncSession,
    *,
    actor: Actor,
    limit: int,
    offset: int = 0,
    entity: str | None = None,
    who: str | None = None,
) -> tuple[list[AuditEntry], int]:
    """The audit log, newest first, for admins: optionally one kind of entity (``cohort``,
    ``broadcast``, …) and one actor as the log names them (``staff:Ana``, ``token:ops``)."""
    actor.check_role()
    query = select(AuditLog)
    if entity:
        query = query.where(AuditLog.entity == entity)
    if who:
        query = query.where(AuditLog.actor == who)
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.scalars(
        query.order_by(AuditLog.occurred_at.desc(), AuditLog.id.desc()).limit(limit).offset(offset)
    )
    return [
        AuditEntry(
            id=row.id,
            occurred_at=row.occurred_at,
            actor=row.actor,
            action=row.action,
            entity=row.entity,
            entity_id=row.entity_id,
            before=row.before,
            after=row.after,
        )
        for row in rows
    ], total


async def entity_kinds(session: AsyncSession, *, actor: Actor) -> list[str]:
    """The kinds of entity the log has entries for, to filter by."""
    actor.check_role()
    return sorted(await session.scalars(select(AuditLog.entity).distinct()))
