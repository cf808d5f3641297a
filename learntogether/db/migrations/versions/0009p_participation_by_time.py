"""Participation counts by time: an index for reports over a window of days; the region and
cohort indexes covering on SQLite again

Reports over recent days (the dashboard's last 7 and 30 days and its 12 weeks) read every
participation count to keep a few: with ``(occurred_at, user_id, cohort_id, figures…)`` they
read only the window's rows, from the index alone. 0008g recreated the region and cohort indexes
with the figures INCLUDEd, which SQLite ignores; they take them as key columns again, as the
model (and 0008r) has them.

Revision ID: 0009p
Revises: 0008x
Create Date: 2026-12-07 04:20:00.000000

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0009p'
down_revision: str | Sequence[str] | None = '0008x'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIGURES = ['joined', 'active', 'assisted', 'lessons_started', 'lessons_completed',
           'tracks_completed', 'certificates', 'attended', 'assisted_lessons_completed',
           'assisted_attended', 'reviewed']
INDEXES = {
    'ix_participation_counts_region_user_id': (['region', 'user_id'], ['occurred_at', *FIGURES, 'cohort_id', 'track_id']),
    'ix_participation_counts_cohort_id_user_id': (['cohort_id', 'user_id'], ['occurred_at', *FIGURES, 'track_id']),
}
BY_TIME = 'ix_participation_counts_occurred_at'


def _count_indexes(covering: bool) -> None:
    with op.batch_alter_table('participation_counts', schema=None) as batch_op:
        for name, (keys, included) in INDEXES.items():
            batch_op.drop_index(name)
            if covering:
                batch_op.create_index(name, [*keys, *included], unique=False)
            else:
                batch_op.create_index(name, keys, unique=False, postgresql_include=included)


def upgrade() -> None:
    _count_indexes(covering=True)
    with op.batch_alter_table('participation_counts', schema=None) as batch_op:
        batch_op.create_index(BY_TIME, ['occurred_at', 'user_id', 'cohort_id', *FIGURES, 'track_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('participation_counts', schema=None) as batch_op:
        batch_op.drop_index(BY_TIME)
    _count_indexes(covering=False)
