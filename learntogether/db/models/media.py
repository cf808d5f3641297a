"""Recorded audio kept in the database, and what each bot's Telegram knows of it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from learntogether.db.base import Base, created_at_column


class Media(Base):
    """One distinct file, keyed by the SHA-256 of its bytes: the same recording is kept once
    however many lesson versions (or answers) name it."""

    __tablename__ = "media"
    __table_args__ = (
        CheckConstraint("size > 0", name="size_positive"),
        CheckConstraint("duration_ms > 0", name="duration_positive"),
        CheckConstraint("length(sha256) = 64", name="sha256_length"),
    )

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    mime_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    duration_ms: Mapped[int]
    # Read on purpose only (``services.media.audio_bytes``): a row loaded for its facts must not
    # drag megabytes along.
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True, deferred_raiseload=True)
    created_at: Mapped[datetime] = created_at_column()


class TelegramFile(Base):
    """The ``file_id`` a bot got back when it first sent a medium: sent again by id, never
    uploaded twice. A ``file_id`` is valid for the bot that received it only."""

    __tablename__ = "telegram_files"

    bot_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    sha256: Mapped[str] = mapped_column(
        ForeignKey("media.sha256", ondelete="CASCADE"), primary_key=True
    )
    file_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = created_at_column()
