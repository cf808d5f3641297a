"""A learner's questions to their cohort's mediators, and the answers, kept for the mediators."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from learntogether.db.base import Base, created_at_column


class HelpMessage(Base):
    """One message of a learner's conversation with the mediators of one cohort: the learner's
    question (``author_id`` null) or a mediator's answer (``author_id`` that mediator)."""

    __tablename__ = "help_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id", ondelete="CASCADE"), index=True)
    learner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()


class HelpCopy(Base):
    """A learner's question as a mediator received it in Telegram: replying to that message
    answers the question."""

    __tablename__ = "help_copies"
    __table_args__ = (UniqueConstraint("chat_id", "message_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    help_message_id: Mapped[int] = mapped_column(
        ForeignKey("help_messages.id", ondelete="CASCADE"), index=True
    )
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(Integer)
