"""API tokens: a public prefix to find the token, a hash of its secret, and a cohort scope."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import Column, ForeignKey, Index, String, Table, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learntogether.db.base import Base, UTCDateTime, created_at_column, enum_check
from learntogether.db.models._columns import enum_column

if TYPE_CHECKING:
    from learntogether.db.models.cohorts import Cohort


class TokenRole(StrEnum):
    ADMIN = "admin"
    MEDIATOR = "mediator"
    """Reaches only the cohorts in ``api_token_cohorts``."""
    VIEWER = "viewer"
    """Reads reports and goal progress only."""


api_token_cohorts = Table(
    "api_token_cohorts",
    Base.metadata,
    Column("token_id", ForeignKey("api_tokens.id", ondelete="CASCADE"), primary_key=True),
    Column("cohort_id", ForeignKey("cohorts.id", ondelete="CASCADE"), primary_key=True),
)


class ApiToken(Base):
    __tablename__ = "api_tokens"
    __table_args__ = (
        enum_check("role", TokenRole),
        # The audit log names a token by its name: two live tokens may not share one.
        Index(
            "uq_api_tokens_live_name",
            "name",
            unique=True,
            postgresql_where=text("revoked_at IS NULL"),
            sqlite_where=text("revoked_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[TokenRole] = enum_column(TokenRole)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = created_at_column()
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    cohorts: Mapped[list[Cohort]] = relationship(
        secondary=api_token_cohorts, lazy="raise", passive_deletes=True
    )
