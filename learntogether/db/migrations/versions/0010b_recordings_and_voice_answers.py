"""Recordings mediators make of lesson steps, and open questions answered by voice

A ``recordings`` table (the review queue: step, lesson version, language, dialect note,
recorder and credit, status, comment, the bytes' sha256 in ``media``), and ``answers`` gain
``audio_sha256``; the reflections index covers spoken answers too. Broadcasts of kind
``recording_review`` tell a recorder their recording was approved or rejected.

Revision ID: 0010b
Revises: 0010a
Create Date: 2026-12-07 06:20:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0010b'
down_revision: str | Sequence[str] | None = '0010a'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = "'pending', 'approved', 'rejected', 'withdrawn'"
KINDS = "'broadcast', 'reminder', 'nudge', 'certificate', 'mediator_role', 'review'"
INDEX = 'ix_answers_reflections_answered_at'
WRITTEN = "kind = 'open' AND text IS NOT NULL"
WRITTEN_OR_SPOKEN = "kind = 'open' AND (text IS NOT NULL OR audio_sha256 IS NOT NULL)"


def _reflections_index(where: str) -> None:
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.drop_index(INDEX)
        batch_op.create_index(
            INDEX,
            ['answered_at', 'id'],
            unique=False,
            postgresql_where=sa.text(where),
            sqlite_where=sa.text(where),
        )


def upgrade() -> None:
    op.create_table(
        'recordings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('lesson_id', sa.Integer(), nullable=False),
        sa.Column('lesson_version_id', sa.Integer(), nullable=False),
        sa.Column('step_index', sa.Integer(), nullable=False),
        sa.Column('locale', sa.String(length=8), nullable=False),
        sa.Column('dialect', sa.String(length=200), nullable=True),
        sa.Column('recorder_id', sa.Integer(), nullable=True),
        sa.Column('credit', sa.String(length=200), nullable=True),
        sa.Column('status', sa.String(length=32), server_default='pending', nullable=False),
        sa.Column('comment', sa.Text(), nullable=True),
        sa.Column('audio_sha256', sa.String(length=64), nullable=True),
        sa.Column('duration', sa.Integer(), nullable=False),
        sa.Column('consented_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
        sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('reviewed_by', sa.String(length=200), nullable=True),
        sa.Column('published_version', sa.Integer(), nullable=True),
        sa.Column('review_broadcast_id', sa.Integer(), nullable=True),
        sa.CheckConstraint(f'status IN ({STATUSES})', name=op.f('ck_recordings_status_valid')),
        sa.CheckConstraint('step_index >= 0', name=op.f('ck_recordings_step_index_not_negative')),
        sa.ForeignKeyConstraint(['lesson_id'], ['lessons.id'], name=op.f('fk_recordings_lesson_id_lessons'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['lesson_version_id'], ['lesson_versions.id'], name=op.f('fk_recordings_lesson_version_id_lesson_versions')),
        sa.ForeignKeyConstraint(['audio_sha256'], ['media.sha256'], name=op.f('fk_recordings_audio_sha256_media')),
        sa.ForeignKeyConstraint(['review_broadcast_id'], ['broadcasts.id'], name=op.f('fk_recordings_review_broadcast_id_broadcasts'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['recorder_id'], ['users.id'], name=op.f('fk_recordings_recorder_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_recordings')),
    )
    with op.batch_alter_table('recordings', schema=None) as batch_op:
        batch_op.create_index('ix_recordings_status_created_at', ['status', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_recordings_recorder_id'), ['recorder_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recordings_review_broadcast_id'), ['review_broadcast_id'], unique=False)
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('audio_sha256', sa.String(length=64), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_answers_audio_sha256_media'), 'media', ['audio_sha256'], ['sha256'])
    _reflections_index(WRITTEN_OR_SPOKEN)
    with op.batch_alter_table('broadcasts', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_broadcasts_kind_valid'), type_='check')
        batch_op.create_check_constraint('kind_valid', f"kind IN ({KINDS}, 'recording_review')")


def downgrade() -> None:
    op.execute("DELETE FROM deliveries WHERE broadcast_id IN (SELECT id FROM broadcasts WHERE kind = 'recording_review')")
    op.execute("DELETE FROM broadcasts WHERE kind = 'recording_review'")
    with op.batch_alter_table('broadcasts', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_broadcasts_kind_valid'), type_='check')
        batch_op.create_check_constraint('kind_valid', f"kind IN ({KINDS})")
    _reflections_index(WRITTEN)
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_answers_audio_sha256_media'), type_='foreignkey')
        batch_op.drop_column('audio_sha256')
    with op.batch_alter_table('recordings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recordings_review_broadcast_id'))
        batch_op.drop_index(batch_op.f('ix_recordings_recorder_id'))
        batch_op.drop_index('ix_recordings_status_created_at')
    op.drop_table('recordings')
