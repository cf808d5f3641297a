"""The audit log: who changed what, through the API, the bot, the scheduler or the command line."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.db.models import AuditLog
from learntogether.services.actors import Actor
from learntogether.services.errors import FieldProblem, InvalidInput

UTC_ZONE = ZoneInfo("UTC")


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
    start: date | None = None,
    end: date | None = None,
    zone: ZoneInfo = UTC_ZONE,
) -> tuple[list[AuditEntry], int]:
    """The audit log, newest first, for admins: optionally one kind of entity (``cohort``,
    ``broadcast``, …), one actor as the log names them (``staff:Ana``, ``token:ops``), and the
    days from ``start`` through ``end`` (both included) on ``zone``'s clock.

    InvalidInput (``$.to``) for an ``end`` before ``start``."""
    actor.check_role()
    if start is not None and end is not None and end < start:
        message = f"{end} is before the start {start}"
        raise InvalidInput(message, [FieldProblem("$.to", message)])
    query = select(AuditLog)
    if start is not None:
        query = query.where(AuditLog.occurred_at >= _midnight(start, zone))
    if end is not None:
        query = query.where(AuditLog.occurred_at < _midnight(end + timedelta(days=1), zone))
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


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


async def entity_kinds(session: AsyncSession, *, actor: Actor) -> list[str]:
    """The kinds of entity the log has entries for, to filter by."""
    actor.check_role()
    return sorted(await session.scalars(select(AuditLog.entity).distinct()))
