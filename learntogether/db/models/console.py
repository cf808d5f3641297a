"""Staff sessions of the web console: a one-time sign-in link, then a session cookie.

Only hashes of the link's and the session's secrets are kept. A session made for a mediator who
is a Telegram learner (``/console``) reaches the cohorts they mediate at each request; one made
from the command line for a mediator reaches the cohorts named when it was made.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learntogether.db.base import Base, UTCDateTime, created_at_column, enum_check
from learntogether.db.models._columns import enum_column
from learntogether.db.models.tokens import TokenRole

if TYPE_CHECKING:
    from learntogether.db.models.cohorts import Cohort

console_session_cohorts = Table(
    "console_session_cohorts",
    Base.metadata,
    Column("session_id", ForeignKey("console_sessions.id", ondelete="CASCADE"), primary_key=True),
    Column("cohort_id", ForeignKey("cohorts.id", ondelete="CASCADE"), primary_key=True),
)


class ConsoleSession(Base):
    """One staff member's sign-in: the link, then the session it opened, until it ends."""

    __tablename__ = "console_sessions"
    __table_args__ = (enum_check("role", TokenRole),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    role: Mapped[TokenRole] = enum_column(TokenRole)
    # A mediator who asked for the link in the bot acts as that learner.
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    link_hash: Mapped[str] = mapped_column(String(64), unique=True)
    link_expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    session_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = created_at_column()
    created_by: Mapped[str] = mapped_column(String(100))
    signed_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user_agent: Mapped[str | None] = mapped_column(String(200))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_by: Mapped[str | None] = mapped_column(String(100))

    cohorts: Mapped[list[Cohort]] = relationship(
        secondary=console_session_cohorts, lazy="raise", passive_deletes=True
    )
