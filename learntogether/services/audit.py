"""The audit log: who changed what, through the API, the bot, the scheduler or the command line."""

from __future__ import annotations

from typing import Any

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
