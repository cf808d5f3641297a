"""Telegram participants: as little about them as the platform needs, and never their ethnicity."""

from __future__ import annotations

from datetime import datetime, time
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, CheckConstraint, String, Time, false, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learntogether.db.base import Base, UTCDateTime, created_at_column, enum_check
from learntogether.db.models._columns import enum_column, updated_at_column

if TYPE_CHECKING:
    from learntogether.db.models.cohorts import Membership


class Role(StrEnum):
    """What a learner does; chosen by the learner, it picks the lessons offered."""

    TEACHER = "teacher"
    SCHOOL_STAFF = "school_staff"
    MEDIATOR = "mediator"
    PARENT = "parent"
    PRINCIPAL = "principal"
    OFFICIAL = "official"
    NGO_WORKER = "ngo_worker"
    COMMUNITY_LEADER = "community_leader"


class UserStatus(StrEnum):
    ACTIVE = "active"
    BLOCKED = "blocked"
    """The learner blocked the bot; nothing is sent until they write again."""
    ERASED = "erased"
    """Personal data removed on request; the row stays so reports keep their counts."""


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        enum_check("role", Role),
        enum_check("status", UserStatus),
        CheckConstraint("length(country) = 2", name="country_alpha2"),
        CheckConstraint(
            "(quiet_hours_start IS NULL) = (quiet_hours_end IS NULL)", name="quiet_hours_pair"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Null once erased: an erased learner can no longer be recognised.
    telegram_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    first_name: Mapped[str | None] = mapped_column(String(128))
    last_name: Mapped[str | None] = mapped_column(String(128))
    certificate_name: Mapped[str | None] = mapped_column(String(200))
    """The name the learner chose to print on certificates; None until asked (and once erased)."""
    username: Mapped[str | None] = mapped_column(String(64))
    locale: Mapped[str | None] = mapped_column(String(16))
    # The language read best, where ``locale`` is a partial one (Romani): what it lacks comes in
    # this language, never silently in English.
    reads_locale: Mapped[str | None] = mapped_column(String(16))
    role: Mapped[Role | None] = enum_column(Role, nullable=True)
    country: Mapped[str | None] = mapped_column(String(2))
    region: Mapped[str | None] = mapped_column(String(128))
    municipality: Mapped[str | None] = mapped_column(String(128))
    timezone: Mapped[str | None] = mapped_column(String(64))
    reminder_time: Mapped[time | None] = mapped_column(Time)
    reminders_enabled: Mapped[bool] = mapped_column(default=True, server_default=true())
    prefers_audio: Mapped[bool] = mapped_column(default=False, server_default=false())
    """"I'd rather listen": steps recorded in the learner's language come as voice notes."""
    quiet_hours_start: Mapped[time | None] = mapped_column(Time)
    quiet_hours_end: Mapped[time | None] = mapped_column(Time)
    consent_version: Mapped[str | None] = mapped_column(String(32))
    consented_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[UserStatus] = enum_column(UserStatus, default=UserStatus.ACTIVE)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    last_active_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    blocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", lazy="raise", passive_deletes=True
    )
