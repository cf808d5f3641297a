"""Targets funders and admins follow, such as 300 teachers completing a track by June."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learntogether.db.base import Base, created_at_column, enum_check, json_column
from learntogether.db.models._columns import enum_column, updated_at_column

if TYPE_CHECKING:
    from learntogether.db.models.content import Track


class GoalMeasure(StrEnum):
    LEARNERS_JOINED = "learners_joined"
    LESSONS_COMPLETED = "lessons_completed"
    TRACKS_COMPLETED = "tracks_completed"
    CERTIFICATES = "certificates"
    ATTENDED = "attended"


class Goal(Base):
    __tablename__ = "goals"
    __table_args__ = (
        enum_check("measure", GoalMeasure),
        CheckConstraint("target > 0", name="target_positive"),
        CheckConstraint("starts_on <= deadline", name="starts_before_deadline"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    measure: Mapped[GoalMeasure] = enum_column(GoalMeasure)
    track_id: Mapped[int | None] = mapped_column(ForeignKey("tracks.id"))
    # Which learners count: {"country", "region", "municipality", "role", "cohort"}.
    filters: Mapped[dict[str, Any]] = json_column(default=dict)
    target: Mapped[int]
    starts_on: Mapped[date | None]
    deadline: Mapped[date]
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    track: Mapped[Track | None] = relationship(lazy="raise")
