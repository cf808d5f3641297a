"""Participation by week away from week boundaries, for reports by week in any time zone;
the months' indexes in the order reports group them in

The table starts empty; ``learntogether db upgrade`` fills it from the participation counts right
after (``db/activity_log.py``), with the code that keeps it up to date.

Revision ID: 0011w
Revises: 0010r
Create Date: 2026-12-07 12:10:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0011w'
down_revision: str | Sequence[str] | None = '0010r'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = 'participation_weeks'
FIGURES = ['joined', 'active', 'assisted', 'lessons_started', 'lessons_completed',
           'tracks_completed', 'certificates', 'attended', 'assisted_lessons_completed',
           'assisted_attended', 'reviewed', 'listened']


def _indexes(table: str, period: str) -> dict[str, list[str]]:
    """A period roll-up's indexes (``models.activity._period_indexes``)."""
    return {
        f'ix_{table}_user_id_{period}': ['user_id', period],
        f'ix_{table}_region_{period}': ['region', period, 'user_id', *FIGURES, 'cohort_id'],
        f'ix_{table}_cohort_id_{period}': ['cohort_id', period, 'user_id', *FIGURES],
        f'ix_{table}_{period}': [period, 'user_id', 'cohort_id', *FIGURES],
    }


# The months' indexes by region and by cohort come in the order reports group them in, as the
# weeks' (0010r had the learner before the month).
MONTHS = 'participation_months'
MONTH_INDEXES_BEFORE = {
    'ix_participation_months_region_user_id': ['region', 'user_id', 'month', *FIGURES, 'cohort_id'],
    'ix_participation_months_cohort_id_user_id': ['cohort_id', 'user_id', 'month', *FIGURES],
}
MONTH_INDEXES = {
    'ix_participation_months_region_month': ['region', 'month', 'user_id', *FIGURES, 'cohort_id'],
    'ix_participation_months_cohort_id_month': ['cohort_id', 'month', 'user_id', *FIGURES],
}
ROLES = ('teacher', 'school_staff', 'mediator', 'parent', 'principal', 'official', 'ngo_worker',
         'community_leader')


def upgrade() -> None:
    op.create_table(TABLE,
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('week', sa.Date(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=True),
    sa.Column('role', sa.String(length=32), nullable=True),
    sa.Column('locale', sa.String(length=16), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('region', sa.String(length=128), nullable=True),
    sa.Column('municipality', sa.String(length=128), nullable=True),
    *(sa.Column(name, sa.Integer(), nullable=False) for name in FIGURES),
    sa.CheckConstraint(f"role IN {ROLES!r}", name=op.f(f'ck_{TABLE}_role_valid')),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f(f'fk_{TABLE}_cohort_id_cohorts')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f(f'fk_{TABLE}_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{TABLE}'))
    )
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        for name, columns in _indexes(TABLE, 'week').items():
            batch_op.create_index(name, columns, unique=False)
    _replace_indexes(MONTH_INDEXES_BEFORE, MONTH_INDEXES)


def downgrade() -> None:
    _replace_indexes(MONTH_INDEXES, MONTH_INDEXES_BEFORE)
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        for name in reversed(_indexes(TABLE, 'week')):
            batch_op.drop_index(name)
    op.drop_table(TABLE)


def _replace_indexes(old: dict[str, list[str]], new: dict[str, list[str]]) -> None:
    with op.batch_alter_table(MONTHS, schema=None) as batch_op:
        for name in old:
            batch_op.drop_index(name)
        for name, columns in new.items():
            batch_op.create_index(name, columns, unique=False)
