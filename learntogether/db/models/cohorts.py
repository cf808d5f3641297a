"""Cohorts: a group that joins with one invite code, its members, mediators and tracks."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    String,
    Table,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learntogether.db.base import Base, UTCDateTime, created_at_column, utcnow

if TYPE_CHECKING:
    from learntogether.db.models.content import Track
    from learntogether.db.models.users import User


cohort_tracks = Table(
    "cohort_tracks",
    Base.metadata,
    Column("cohort_id", ForeignKey("cohorts.id", ondelete="CASCADE"), primary_key=True),
    Column("track_id", ForeignKey("tracks.id", ondelete="CASCADE"), primary_key=True),
)

cohort_mediators = Table(
    "cohort_mediators",
    Base.metadata,
    Column("cohort_id", ForeignKey("cohorts.id", ondelete="CASCADE"), primary_key=True),
    # A mediator's own cohorts are looked up on every /cohort, /broadcast and /nudge.
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True),
    Column(
        "added_at",
        UTCDateTime,
        nullable=False,
        default=utcnow,
        server_default=func.current_timestamp(),
    ),
)


class Cohort(Base):
    __tablename__ = "cohorts"
    __table_args__ = (
        CheckConstraint("nudge_after_days > 0", name="nudge_after_days_positive"),
        CheckConstraint("length(country) = 2", name="country_alpha2"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(2))
    region: Mapped[str | None] = mapped_column(String(128))
    municipality: Mapped[str | None] = mapped_column(String(128))
    school: Mapped[str | None] = mapped_column(String(200))
    locale: Mapped[str | None] = mapped_column(String(16))
    nudge_after_days: Mapped[int] = mapped_column(default=7, server_default="7")
    created_at: Mapped[datetime] = created_at_column()
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    tracks: Mapped[list[Track]] = relationship(
        secondary=cohort_tracks, lazy="raise", passive_deletes=True
    )
    mediators: Mapped[list[User]] = relationship(
        secondary=cohort_mediators, lazy="raise", passive_deletes=True
    )
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="cohort", lazy="raise", cascade="all, delete-orphan", passive_deletes=True
    )


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("cohort_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    joined_at: Mapped[datetime] = created_at_column()

    cohort: Mapped[Cohort] = relationship(back_populates="memberships", lazy="raise")
    user: Mapped[User] = relationship(back_populates="memberships", lazy="raise")
