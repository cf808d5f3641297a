"""How far each learner got in each lesson per quarter hour, for the funnel; covering indexes
for participation on SQLite

The table starts empty; ``learntogether db upgrade`` fills it from ``activities`` right after
(``db/activity_log.py``), with the code that keeps it up to date. The participation counts'
region and cohort indexes take their figures as key columns instead of INCLUDE (which SQLite
does not have), so both databases read the report from the index alone.

Revision ID: 0008r
Revises: 0007
Create Date: 2026-12-07 03:10:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0008r'
down_revision: str | Sequence[str] | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INCLUDED = ['occurred_at', 'cohort_id', 'started', 'furthest', 'finished', 'passed']
FIGURES = ['joined', 'active', 'assisted', 'lessons_started', 'lessons_completed', 'tracks_completed', 'certificates', 'attended', 'assisted_lessons_completed', 'assisted_attended']
OLD_INDEXES = {
    'ix_participation_counts_region_user_id': (['region', 'user_id'], ['occurred_at', *FIGURES, 'cohort_id', 'track_id']),
    'ix_participation_counts_cohort_id_user_id': (['cohort_id', 'user_id'], ['occurred_at', *FIGURES, 'track_id']),
}


def _replace_count_indexes(covering: bool) -> None:
    with op.batch_alter_table('participation_counts', schema=None) as batch_op:
        for name, (keys, included) in OLD_INDEXES.items():
            batch_op.drop_index(name)
            if covering:
                batch_op.create_index(name, [*keys, *included], unique=False)
            else:
                batch_op.create_index(name, keys, unique=False, postgresql_include=included)


def upgrade() -> None:
    op.create_table('lesson_reach',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('lesson_id', sa.Integer(), nullable=False),
    sa.Column('track_id', sa.Integer(), nullable=True),
    sa.Column('cohort_id', sa.Integer(), nullable=True),
    sa.Column('role', sa.String(length=32), nullable=True),
    sa.Column('locale', sa.String(length=16), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('region', sa.String(length=128), nullable=True),
    sa.Column('municipality', sa.String(length=128), nullable=True),
    sa.Column('started', sa.Integer(), nullable=False),
    sa.Column('furthest', sa.Integer(), nullable=True),
    sa.Column('finished', sa.Integer(), nullable=False),
    sa.Column('passed', sa.Integer(), nullable=False),
    sa.CheckConstraint("role IN ('teacher', 'school_staff', 'mediator', 'parent', 'principal', 'official', 'ngo_worker', 'community_leader')", name=op.f('ck_lesson_reach_role_valid')),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_lesson_reach_cohort_id_cohorts')),
    sa.ForeignKeyConstraint(['lesson_id'], ['lessons.id'], name=op.f('fk_lesson_reach_lesson_id_lessons')),
    sa.ForeignKeyConstraint(['track_id'], ['tracks.id'], name=op.f('fk_lesson_reach_track_id_tracks')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_lesson_reach_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lesson_reach'))
    )
    with op.batch_alter_table('lesson_reach', schema=None) as batch_op:
        batch_op.create_index('ix_lesson_reach_lesson_id_user_id', ['lesson_id', 'user_id'], unique=False, postgresql_include=INCLUDED)
        batch_op.create_index('ix_lesson_reach_user_id_occurred_at', ['user_id', 'occurred_at'], unique=False)
    _replace_count_indexes(covering=True)


def downgrade() -> None:
    _replace_count_indexes(covering=False)
    with op.batch_alter_table('lesson_reach', schema=None) as batch_op:
        batch_op.drop_index('ix_lesson_reach_user_id_occurred_at')
        batch_op.drop_index('ix_lesson_reach_lesson_id_user_id', postgresql_include=INCLUDED)

    op.drop_table('lesson_reach')
