"""The language a learner reads best, and learners' questions to their mediators

reads_locale: where a partial language (Romani) lacks a text, the learner reads this one.
help_messages: a learner's conversation with the mediators of a cohort; help_copies: the
Telegram messages mediators received it as, so that a reply to one answers the learner.

Revision ID: 0008l
Revises: 0008r
Create Date: 2026-12-07 03:10:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0008l"
down_revision: str | Sequence[str] | None = "0008r"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reads_locale", sa.String(length=16), nullable=True))
    op.create_table(
        "help_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_help_messages_author_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["cohort_id"],
            ["cohorts.id"],
            name=op.f("fk_help_messages_cohort_id_cohorts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["users.id"],
            name=op.f("fk_help_messages_learner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_help_messages")),
    )
    with op.batch_alter_table("help_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_help_messages_cohort_id"), ["cohort_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_help_messages_learner_id"), ["learner_id"], unique=False
        )
    op.create_table(
        "help_copies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("help_message_id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["help_message_id"],
            ["help_messages.id"],
            name=op.f("fk_help_copies_help_message_id_help_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_help_copies")),
        sa.UniqueConstraint("chat_id", "message_id", name=op.f("uq_help_copies_chat_id_message_id")),
    )
    with op.batch_alter_table("help_copies", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_help_copies_help_message_id"), ["help_message_id"], unique=False
        )


def downgrade() -> None:
    op.drop_table("help_copies")
    op.drop_table("help_messages")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("reads_locale")
