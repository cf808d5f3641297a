"""Participation counts per learner and quarter hour

The table starts empty; ``learntogether db upgrade`` fills it from ``activities`` right after
(``db/activity_log.py``), with the code that keeps it up to date.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 19:16:57.981273

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0004'
down_revision: str | Sequence[str] | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('participation_counts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('track_id', sa.Integer(), nullable=True),
    sa.Column('cohort_id', sa.Integer(), nullable=True),
    sa.Column('role', sa.String(length=32), nullable=True),
    sa.Column('locale', sa.String(length=16), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('region', sa.String(length=128), nullable=True),
    sa.Column('municipality', sa.String(length=128), nullable=True),
    sa.Column('joined', sa.Integer(), nullable=False),
    sa.Column('active', sa.Integer(), nullable=False),
    sa.Column('assisted', sa.Integer(), nullable=False),
    sa.Column('lessons_started', sa.Integer(), nullable=False),
    sa.Column('lessons_completed', sa.Integer(), nullable=False),
    sa.Column('tracks_completed', sa.Integer(), nullable=False),
    sa.Column('certificates', sa.Integer(), nullable=False),
    sa.Column('attended', sa.Integer(), nullable=False),
    sa.Column('assisted_lessons_completed', sa.Integer(), nullable=False),
    sa.Column('assisted_attended', sa.Integer(), nullable=False),
    sa.CheckConstraint("role IN ('teacher', 'school_staff', 'mediator', 'parent', 'principal', 'official', 'ngo_worker', 'community_leader')", name=op.f('ck_participation_counts_role_valid')),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_participation_counts_cohort_id_cohorts')),
    sa.ForeignKeyConstraint(['track_id'], ['tracks.id'], name=op.f('fk_participation_counts_track_id_tracks')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_participation_counts_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_participation_counts'))
    )
    with op.batch_alter_table('participation_counts', schema=None) as batch_op:
        batch_op.create_index('ix_participation_counts_cohort_id_user_id', ['cohort_id', 'user_id'], unique=False, postgresql_include=['occurred_at', 'joined', 'active', 'assisted', 'lessons_started', 'lessons_completed', 'tracks_completed', 'certificates', 'attended', 'assisted_lessons_completed', 'assisted_attended', 'track_id'])
        batch_op.create_index('ix_participation_counts_region_user_id', ['region', 'user_id'], unique=False, postgresql_include=['occurred_at', 'joined', 'active', 'assisted', 'lessons_started', 'lessons_completed', 'tracks_completed', 'certificates', 'attended', 'assisted_lessons_completed', 'assisted_attended', 'cohort_id', 'track_id'])
        batch_op.create_index('ix_participation_counts_user_id_occurred_at', ['user_id', 'occurred_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('participation_counts', schema=None) as batch_op:
        batch_op.drop_index('ix_participation_counts_user_id_occurred_at')
        batch_op.drop_index('ix_participation_counts_region_user_id', postgresql_include=['occurred_at', 'joined', 'active', 'assisted', 'lessons_started', 'lessons_completed', 'tracks_completed', 'certificates', 'attended', 'assisted_lessons_completed', 'assisted_attended', 'cohort_id', 'track_id'])
        batch_op.drop_index('ix_participation_counts_cohort_id_user_id', postgresql_include=['occurred_at', 'joined', 'active', 'assisted', 'lessons_started', 'lessons_completed', 'tracks_completed', 'certificates', 'attended', 'assisted_lessons_completed', 'assisted_attended', 'track_id'])

    op.drop_table('participation_counts')
