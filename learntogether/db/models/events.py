"""Workshops held with a cohort, and who checked in."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learntogether.db.base import Base, UTCDateTime, created_at_column, enum_check
from learntogether.db.models._columns import enum_column

if TYPE_CHECKING:
    from learntogether.db.models.cohorts import Cohort


class AttendanceMethod(StrEnum):
    DEEP_LINK = "deep_link"
    """The learner opened the workshop's ``e-<code>`` link."""
    MEDIATOR = "mediator"
    """A mediator checked the learner in."""


class Event(Base):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    location: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = created_at_column()
    # The QR message whose check-in count the delivery worker keeps up to date, in the language
    # of the mediator it was sent to, and the count it shows (services/events.py).
    qr_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    qr_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    qr_message_id: Mapped[int | None] = mapped_column(BigInteger)
    qr_shown: Mapped[int | None]

    cohort: Mapped[Cohort] = relationship(lazy="raise")
    attendance: Mapped[list[Attendance]] = relationship(
        back_populates="event", lazy="raise", cascade="all, delete-orphan", passive_deletes=True
    )


class Attendance(Base):
    """A learner's check-in; the primary key keeps it to one per workshop and learner."""

    __tablename__ = "attendance"
    __table_args__ = (enum_check("method", AttendanceMethod),)

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    checked_in_at: Mapped[datetime] = created_at_column()
    method: Mapped[AttendanceMethod] = enum_column(AttendanceMethod)
    assisted_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )

    event: Mapped[Event] = relationship(back_populates="attendance", lazy="raise")
