"""Spaced review: the questions a learner got wrong, asked again one, three and seven days later."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from learntogether.db.base import Base, UTCDateTime, created_at_column, enum_check, json_column
from learntogether.db.models._columns import enum_column


class ReviewStatus(StrEnum):
    SCHEDULED = "scheduled"
    """Waiting for its day."""
    QUEUED = "queued"
    """Its invitation is in the outbox (``delivery_id``)."""
    STARTED = "started"
    DONE = "done"
    SKIPPED = "skipped"
    """The learner pressed Skip."""
    DROPPED = "dropped"
    """Never offered: reminders off, a newer attempt or a later round replaced it."""


class Review(Base):
    """One round of review of one finished quiz attempt's wrong answers."""

    __tablename__ = "reviews"
    __table_args__ = (
        enum_check("status", ReviewStatus),
        CheckConstraint("after_days > 0", name="after_days_positive"),
        CheckConstraint("position >= 0", name="position_not_negative"),
        CheckConstraint("correct >= 0", name="correct_not_negative"),
        UniqueConstraint("attempt_id", "after_days"),
        # The scheduler's sweep: rounds that fell due.
        Index("ix_reviews_status_due_at", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"))
    attempt_id: Mapped[int] = mapped_column(ForeignKey("quiz_attempts.id", ondelete="CASCADE"))
    after_days: Mapped[int]
    """The round: days after the quiz (1, 3 or 7)."""
    question_keys: Mapped[list[str]] = json_column()
    """The questions answered wrong, in the quiz's order."""
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[ReviewStatus] = enum_column(ReviewStatus, default=ReviewStatus.SCHEDULED)
    delivery_id: Mapped[int | None] = mapped_column(
        ForeignKey("deliveries.id", ondelete="SET NULL"), index=True
    )
    position: Mapped[int] = mapped_column(default=0, server_default="0")
    """The next question to ask, once started."""
    correct: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = created_at_column()
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
