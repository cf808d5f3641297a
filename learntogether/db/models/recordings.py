"""Recordings of lesson steps that mediators make in the chat, waiting for an admin's review."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from learntogether.db.base import Base, UTCDateTime, created_at_column, enum_check
from learntogether.db.models._columns import enum_column


class RecordingStatus(StrEnum):
    PENDING = "pending"
    """Waiting for an admin to listen to it."""
    APPROVED = "approved"
    """Published as the step's audio in a new lesson version (``published_version``)."""
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    """Taken back by the recorder (or their /delete) before approval; the bytes are gone."""


class StepRecording(Base):
    """One voice note a mediator recorded for one step of one lesson, in one language.

    The recorder agreed to publication when sending it (``consented_at``): a recording is the
    speaker's personal data. The bytes live in ``media`` (by ``audio_sha256``) until the
    recording is withdrawn, rejected and erased, or its recorder erased.
    """

    __tablename__ = "recordings"
    __table_args__ = (
        enum_check("status", RecordingStatus),
        CheckConstraint("step_index >= 0", name="step_index_not_negative"),
        # The review queue, oldest first; a recorder's own recordings.
        Index("ix_recordings_status_created_at", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id", ondelete="CASCADE"))
    lesson_version_id: Mapped[int] = mapped_column(ForeignKey("lesson_versions.id"))
    """The version whose text the recorder read."""
    step_index: Mapped[int]
    """The step, counted from 0."""
    locale: Mapped[str] = mapped_column(String(8))
    dialect: Mapped[str | None] = mapped_column(String(200))
    """The recorder's own words for a Romani dialect (Kalderash, Erli…); None otherwise."""
    recorder_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    credit: Mapped[str | None] = mapped_column(String(200))
    """The name the recording is credited to (the recorder's name when sent); None once erased."""
    status: Mapped[RecordingStatus] = enum_column(RecordingStatus, default=RecordingStatus.PENDING)
    comment: Mapped[str | None] = mapped_column(Text)
    """The reviewer's words to the recorder."""
    audio_sha256: Mapped[str | None] = mapped_column(ForeignKey("media.sha256"))
    """The recording's bytes in ``media``; None once withdrawn, rejected or its recorder erased."""
    duration: Mapped[int]
    """Seconds."""
    consented_at: Mapped[datetime] = mapped_column(UTCDateTime)
    """When the recorder agreed to publication."""
    created_at: Mapped[datetime] = created_at_column()
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_by: Mapped[str | None] = mapped_column(String(200))
    published_version: Mapped[int | None]
    """The lesson version number approval published."""
    review_broadcast_id: Mapped[int | None] = mapped_column(
        ForeignKey("broadcasts.id", ondelete="SET NULL"), index=True
    )
    """The notice telling the recorder of the review (``delivery.render`` reads it)."""
