"""Recorded audio, the file ids bots got for it, and learners who would rather listen

media: one row per distinct audio file (keyed by its SHA-256): the bytes, type, size, duration.
telegram_files: per bot, the file_id Telegram returned when the bot first sent a medium.
users.prefers_audio: "I'd rather listen": recorded steps come as voice notes.
The activity ``listened`` (a step sent as its recording), counted in participation_counts.listened
(the participation indexes carry every figure, so they are built again with it).

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

VERBS = ['joined', 'started', 'step', 'answered', 'completed', 'passed', 'failed', 'attended',
         'reminded', 'nudged', 'certified', 'reviewed']
FIGURES = ['joined', 'active', 'assisted', 'lessons_started', 'lessons_completed',
           'tracks_completed', 'certificates', 'attended', 'assisted_lessons_completed',
           'assisted_attended', 'reviewed']
# The participation indexes as 0009p left them: (keys before the figures, after them).
INDEXES = {
    'ix_participation_counts_region_user_id': (['region', 'user_id', 'occurred_at'], ['cohort_id', 'track_id']),
    'ix_participation_counts_cohort_id_user_id': (['cohort_id', 'user_id', 'occurred_at'], ['track_id']),
    'ix_participation_counts_occurred_at': (['occurred_at', 'user_id', 'cohort_id'], ['track_id']),
}


def _verbs(verbs: list[str]) -> None:
    values = ', '.join(f"'{verb}'" for verb in verbs)
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_activities_verb_valid'), type_='check')
        batch_op.create_check_constraint(op.f('ck_activities_verb_valid'), f'verb IN ({values})')


def _figure_indexes(figures: list[str]) -> None:
    with op.batch_alter_table('participation_counts', schema=None) as batch_op:
        for name, (before, after) in INDEXES.items():
            batch_op.drop_index(name)
            batch_op.create_index(name, [*before, *figures, *after], unique=False)


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
    _verbs([*VERBS, 'listened'])
    with op.batch_alter_table('participation_counts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('listened', sa.Integer(), server_default='0', nullable=False))
    _figure_indexes([*FIGURES, 'listened'])


def downgrade() -> None:
    _figure_indexes(FIGURES)
    with op.batch_alter_table('participation_counts', schema=None) as batch_op:
        batch_op.drop_column('listened')
    op.execute("DELETE FROM activities WHERE verb = 'listened'")
    _verbs(VERBS)
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("prefers_audio")
    op.drop_table("telegram_files")
    op.drop_table("media")
