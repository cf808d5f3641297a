"""The audit log: who changed what, through the API or the command line."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from learntogether.db.models import AuditLog


async def record_change(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_id: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    actor_token_id: int | None = None,
) -> None:
    """Append one audit entry; it commits with the change it describes."""
    session.add(
        AuditLog(
            actor=actor,
            actor_token_id=actor_token_id,
            action=action,
            entity=entity,
            entity_id=entity_id,
            before=before,
            after=after,
        )
    )
