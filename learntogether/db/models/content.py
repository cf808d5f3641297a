"""Curriculum: tracks, lessons and the immutable versions learners actually take."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learntogether.db.base import Base, UTCDateTime, created_at_column, enum_check, json_column
from learntogether.db.models._columns import enum_column, updated_at_column


class LessonStatus(StrEnum):
    DRAFT = "draft"
    """Never published: invisible to learners."""
    PUBLISHED = "published"
    ARCHIVED = "archived"
    """No longer offered; progress and reports keep pointing at it."""


class VersionStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    """Immutable from now on (a service rule): progress points at it."""


class Track(Base):
    __tablename__ = "tracks"
    __table_args__ = (CheckConstraint("position >= 0", name="position_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[dict[str, str]] = json_column()
    description: Mapped[dict[str, str]] = json_column(default=dict)
    audience: Mapped[list[str]] = json_column(default=list)
    position: Mapped[int] = mapped_column(default=0, server_default="0")
    pass_rule: Mapped[dict[str, Any] | None] = json_column(nullable=True)
    document: Mapped[dict[str, Any]] = json_column(default=dict)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    lessons: Mapped[list[Lesson]] = relationship(
        back_populates="track", lazy="raise", passive_deletes=True, order_by="Lesson.position"
    )


class Lesson(Base):
    __tablename__ = "lessons"
    __table_args__ = (
        enum_check("status", LessonStatus),
        CheckConstraint("position >= 0", name="position_not_negative"),
        Index("ix_lessons_track_id_position", "track_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    track_id: Mapped[int | None] = mapped_column(ForeignKey("tracks.id", ondelete="SET NULL"))
    position: Mapped[int] = mapped_column(default=0, server_default="0")
    status: Mapped[LessonStatus] = enum_column(LessonStatus, default=LessonStatus.DRAFT)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    track: Mapped[Track | None] = relationship(back_populates="lessons", lazy="raise")
    versions: Mapped[list[LessonVersion]] = relationship(
        back_populates="lesson",
        lazy="raise",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="LessonVersion.number",
    )


class LessonVersion(Base):
    """One numbered version of a lesson: the whole validated lesson document, as in its file."""

    __tablename__ = "lesson_versions"
    __table_args__ = (
        UniqueConstraint("lesson_id", "number"),
        enum_check("status", VersionStatus),
        CheckConstraint("number >= 1", name="number_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"))
    number: Mapped[int]
    document: Mapped[dict[str, Any]] = json_column()
    content_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[VersionStatus] = enum_column(VersionStatus, default=VersionStatus.DRAFT)
    created_at: Mapped[datetime] = created_at_column()
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str | None] = mapped_column(String(100))

    lesson: Mapped[Lesson] = relationship(back_populates="versions", lazy="raise")
