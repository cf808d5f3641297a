"""Messages the system starts, and one delivery row per recipient (the outbox)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learntogether.db.base import Base, UTCDateTime, created_at_column, enum_check, json_column
from learntogether.db.models._columns import enum_column, updated_at_column

if TYPE_CHECKING:
    from learntogether.db.models.cohorts import Cohort
    from learntogether.db.models.users import User


class BroadcastKind(StrEnum):
    BROADCAST = "broadcast"
    REMINDER = "reminder"
    NUDGE = "nudge"
    CERTIFICATE = "certificate"
    MEDIATOR_ROLE = "mediator_role"
    """A learner's mediator role changed: they are told, and their command menu follows."""
    REVIEW = "review"
    """The invitation to a spaced review (``services/review.py``)."""
    RECORDING_REVIEW = "recording_review"
    """A mediator's recording was approved or rejected (``services/recordings.py``)."""


class BroadcastStatus(StrEnum):
    SCHEDULED = "scheduled"
    SENDING = "sending"
    DONE = "done"
    CANCELLED = "cancelled"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    """Leased by a worker until ``lease_until``; a crashed worker's lease runs out."""
    SENT = "sent"
    FAILED = "failed"
    BLOCKED = "blocked"
    """The learner blocked the bot."""
    CANCELLED = "cancelled"


class WaitReason(StrEnum):
    """Why a pending row waits past its broadcast's send time (``next_attempt_at``)."""

    QUIET_HOURS = "quiet_hours"
    """The learner's quiet hours; it goes when they end."""
    PAUSE = "pause"
    """Telegram asked every send to pause (a 429), or the Bot API refused the bot."""
    RETRY = "retry"
    """The last try failed in a way worth trying again (``last_error`` says how)."""


broadcast_cohorts = Table(
    "broadcast_cohorts",
    Base.metadata,
    Column("broadcast_id", ForeignKey("broadcasts.id", ondelete="CASCADE"), primary_key=True),
    Column("cohort_id", ForeignKey("cohorts.id", ondelete="CASCADE"), primary_key=True),
)


class Broadcast(Base):
    __tablename__ = "broadcasts"
    __table_args__ = (
        enum_check("kind", BroadcastKind),
        enum_check("status", BroadcastStatus),
        Index("ix_broadcasts_status_send_at", "status", "send_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[BroadcastKind] = enum_column(BroadcastKind, default=BroadcastKind.BROADCAST)
    # Locale → text; a learner gets its own language, else the fallback.
    text: Mapped[dict[str, str]] = json_column()
    all_learners: Mapped[bool] = mapped_column(default=False, server_default=false())
    status: Mapped[BroadcastStatus] = enum_column(
        BroadcastStatus, default=BroadcastStatus.SCHEDULED
    )
    # Now, unless scheduled for later.
    send_at: Mapped[datetime] = created_at_column()
    created_at: Mapped[datetime] = created_at_column()
    created_by: Mapped[str | None] = mapped_column(String(100))
    created_by_token_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_tokens.id", ondelete="SET NULL")
    )
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The status message its author follows in the bot, and a digest of what it shows, so the
    # delivery worker edits it only when it changes.
    status_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    status_message_id: Mapped[int | None] = mapped_column(BigInteger)
    status_digest: Mapped[str | None] = mapped_column(String(64))

    cohorts: Mapped[list[Cohort]] = relationship(
        secondary=broadcast_cohorts, lazy="raise", passive_deletes=True
    )
    deliveries: Mapped[list[Delivery]] = relationship(
        back_populates="broadcast", lazy="raise", cascade="all, delete-orphan", passive_deletes=True
    )


class Delivery(Base):
    """One message to one learner; at most one per broadcast and learner."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("broadcast_id", "user_id"),
        enum_check("status", DeliveryStatus),
        enum_check("wait_reason", WaitReason),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        # The worker's queue: due pending rows and expired leases.
        Index("ix_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
        # Live counts per broadcast.
        Index("ix_deliveries_broadcast_id_status", "broadcast_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[DeliveryStatus] = enum_column(DeliveryStatus, default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    wait_reason: Mapped[WaitReason | None] = enum_column(WaitReason, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    broadcast: Mapped[Broadcast] = relationship(back_populates="deliveries", lazy="raise")
    user: Mapped[User] = relationship(lazy="raise")
