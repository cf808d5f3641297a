"""Who changed what: through the API, the bot, the scheduler or the command line."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from learntogether.db.base import Base, UTCDateTime, json_column, utcnow


class AuditLog(Base):
    """One change: the actor, the action, the entity and its state before and after."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity_entity_id", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, server_default=func.current_timestamp(), index=True
    )
    actor: Mapped[str] = mapped_column(String(100))
    # Kept after the token is deleted: ``actor`` still names who it was.
    actor_token_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_tokens.id", ondelete="SET NULL")
    )
    # A mediator acting in the bot: the learner's row stays after erasure, so this does too.
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = json_column(nullable=True)
    after: Mapped[dict[str, Any] | None] = json_column(nullable=True)
