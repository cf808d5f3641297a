"""Resumable lesson state, quiz attempts, every answer given, and the sums item analysis reads."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learntogether.db.base import Base, UTCDateTime, created_at_column, enum_check, json_column
from learntogether.db.models._columns import enum_column, updated_at_column


class ProgressStatus(StrEnum):
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


class QuestionKind(StrEnum):
    SINGLE = "single"
    MULTIPLE = "multiple"
    TRUE_FALSE = "true_false"
    LIKERT = "likert"
    """An attitude item without a right answer."""
    OPEN = "open"
    """A reflection in the learner's own words."""


class LessonProgress(Base):
    """Where a learner is in a lesson; it stays on the version the learner started."""

    __tablename__ = "lesson_progress"
    __table_args__ = (
        UniqueConstraint("user_id", "lesson_id"),
        enum_check("status", ProgressStatus),
        CheckConstraint("step_index >= 0", name="step_index_not_negative"),
        CheckConstraint("best_score >= 0", name="best_score_not_negative"),
        Index("ix_lesson_progress_lesson_id_status", "lesson_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    lesson_id: Mapped[int] = mapped_column(ForeignKey("lessons.id"))
    lesson_version_id: Mapped[int] = mapped_column(ForeignKey("lesson_versions.id"), index=True)
    step_index: Mapped[int] = mapped_column(default=0, server_default="0")
    status: Mapped[ProgressStatus] = enum_column(ProgressStatus, default=ProgressStatus.IN_PROGRESS)
    started_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    best_score: Mapped[float | None]
    passed: Mapped[bool | None]


class QuizAttempt(Base):
    __tablename__ = "quiz_attempts"
    __table_args__ = (
        CheckConstraint("question_index >= 0", name="question_index_not_negative"),
        CheckConstraint("score >= 0", name="score_not_negative"),
        CheckConstraint("max_score >= 0", name="max_score_not_negative"),
        CheckConstraint("score <= max_score", name="score_within_max"),
        Index("ix_quiz_attempts_user_id_lesson_version_id", "user_id", "lesson_version_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    lesson_version_id: Mapped[int] = mapped_column(ForeignKey("lesson_versions.id"), index=True)
    progress_id: Mapped[int | None] = mapped_column(
        ForeignKey("lesson_progress.id", ondelete="SET NULL"), index=True
    )
    question_index: Mapped[int] = mapped_column(default=0, server_default="0")
    # The native Telegram quiz poll the current question was sent as; its answer comes back by id.
    poll_id: Mapped[str | None] = mapped_column(String(64), index=True)
    started_at: Mapped[datetime] = created_at_column()
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Known once the attempt is finished.
    score: Mapped[float | None]
    max_score: Mapped[float | None]
    passed: Mapped[bool | None]
    # A mediator who helped a learner answer (for instance a parent who does not read).
    assisted_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )

    answers: Mapped[list[Answer]] = relationship(
        back_populates="attempt",
        lazy="raise",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Answer.id",
    )


REFLECTION = "kind = 'open' AND (text IS NOT NULL OR audio_sha256 IS NOT NULL)"
"""An answer to an open question that still has the learner's words, written or spoken."""


class Answer(Base):
    __tablename__ = "answers"
    __table_args__ = (
        UniqueConstraint("attempt_id", "question_key"),
        enum_check("kind", QuestionKind),
        # Reflections, newest first (services/reflections.py): open answers, written or spoken.
        Index(
            "ix_answers_reflections_answered_at",
            "answered_at",
            "id",
            postgresql_where=sql_text(REFLECTION),
            sqlite_where=sql_text(REFLECTION),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("quiz_attempts.id", ondelete="CASCADE"))
    question_key: Mapped[str] = mapped_column(String(64))
    kind: Mapped[QuestionKind] = enum_column(QuestionKind)
    # Option indexes for choice questions, or the point chosen on a likert scale.
    choice: Mapped[Any] = json_column(nullable=True)
    text: Mapped[str | None] = mapped_column(Text)
    audio_sha256: Mapped[str | None] = mapped_column(ForeignKey("media.sha256"))
    """An open question answered by voice: the voice note in ``media``; None once erased."""
    correct: Mapped[bool | None]
    answered_at: Mapped[datetime] = created_at_column()

    attempt: Mapped[QuizAttempt] = relationship(back_populates="answers", lazy="raise")


class QuestionSum(Base):
    """The answers of learners' first finished attempts summed per lesson version, question and
    choice: what item analysis adds up (``db/question_sums.py`` keeps them).

    An attempt is counted once, on its version's rows: with ``first_of_lesson`` when it is the
    learner's first finished attempt at the lesson (any version), without it when it is only the
    first at its version. A report of every version reads the first, of one version both.
    """

    __tablename__ = "question_sums"

    lesson_version_id: Mapped[int] = mapped_column(
        ForeignKey("lesson_versions.id"), primary_key=True
    )
    first_of_lesson: Mapped[bool] = mapped_column(primary_key=True)
    question_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    choice: Mapped[str] = mapped_column(String(255), primary_key=True)
    """The options chosen (indexes from 0, or the likert point) in ascending order, comma-separated; empty
    for an open question."""
    answers: Mapped[int] = mapped_column(BigInteger)
    right_answers: Mapped[int] = mapped_column(BigInteger)
    rest: Mapped[int] = mapped_column(BigInteger)
    """The attempts' right answers to the other questions, summed."""
    right_times_rest: Mapped[int] = mapped_column(BigInteger)
    rest_squared: Mapped[int] = mapped_column(BigInteger)
