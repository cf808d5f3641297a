"""Recorded audio, the file ids bots got for it, and learners who would rather listen

media: one row per distinct audio file (keyed by its SHA-256): the bytes, type, size, duration.
telegram_files: per bot, the file_id Telegram returned when the bot first sent a medium.
users.prefers_audio: "I'd rather listen": recorded steps come as voice notes.

Revision ID: 0010a
Revises: 0009p
Create Date: 2026-12-07 06:10:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0010a"
down_revision: str | Sequence[str] | None = "0009p"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "media",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("mime_type", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.CheckConstraint("duration_ms > 0", name=op.f("ck_media_duration_positive")),
        sa.CheckConstraint("length(sha256) = 64", name=op.f("ck_media_sha256_length")),
        sa.CheckConstraint("size > 0", name=op.f("ck_media_size_positive")),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_media")),
    )
    op.create_table(
        "telegram_files",
        sa.Column("bot_id", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("file_id", sa.String(length=255), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["sha256"],
            ["media.sha256"],
            name=op.f("fk_telegram_files_sha256_media"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("bot_id", "sha256", name=op.f("pk_telegram_files")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("prefers_audio", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("prefers_audio")
    op.drop_table("telegram_files")
    op.drop_table("media")
