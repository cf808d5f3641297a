"""Certificates for finished tracks, verifiable in public by their code."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from learntogether.db.base import Base, created_at_column

if TYPE_CHECKING:
    from learntogether.db.models.content import Track
    from learntogether.db.models.users import User


class Certificate(Base):
    __tablename__ = "certificates"
    __table_args__ = (UniqueConstraint("user_id", "track_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    track_id: Mapped[int] = mapped_column(ForeignKey("tracks.id"), index=True)
    issued_at: Mapped[datetime] = created_at_column()
    # Cleared when the learner is erased; the certificate itself stays verifiable.
    name_on_certificate: Mapped[str | None] = mapped_column(String(200))

    user: Mapped[User] = relationship(lazy="raise")
    track: Mapped[Track] = relationship(lazy="raise")
