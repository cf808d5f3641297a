"""Participation by month away from month boundaries, for reports by month in any time zone,
and in all, for the dashboard

The tables start empty; ``learntogether db upgrade`` fills it from the participation counts right
after (``db/activity_log.py``), with the code that keeps it up to date.

Revision ID: 0010r
Revises: 0010b
Create Date: 2026-12-07 06:30:00.000000

"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0010r'
down_revision: str | Sequence[str] | None = '0010b'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FIGURES = ['joined', 'active', 'assisted', 'lessons_started', 'lessons_completed',
           'tracks_completed', 'certificates', 'attended', 'assisted_lessons_completed',
           'assisted_attended', 'reviewed', 'listened']
INDEXES = {
    'ix_participation_months_user_id_month': ['user_id', 'month'],
    'ix_participation_months_region_user_id': ['region', 'user_id', 'month', *FIGURES, 'cohort_id'],
    'ix_participation_months_cohort_id_user_id': ['cohort_id', 'user_id', 'month', *FIGURES],
    'ix_participation_months_month': ['month', 'user_id', 'cohort_id', *FIGURES],
}


TOTAL_INDEXES = {
    'ix_participation_totals_user_id': ['user_id'],
    'ix_participation_totals_region_user_id': ['region', 'user_id', *FIGURES, 'cohort_id'],
}


def _counted(table: str, *columns: sa.Column[Any]) -> None:
    """A table of learners' figures with their snapshot (``models.activity.Counted``)."""
    op.create_table(table,
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    *columns,
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=True),
    sa.Column('role', sa.String(length=32), nullable=True),
    sa.Column('locale', sa.String(length=16), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('region', sa.String(length=128), nullable=True),
    sa.Column('municipality', sa.String(length=128), nullable=True),
    *(sa.Column(name, sa.Integer(), nullable=False) for name in FIGURES),
    sa.CheckConstraint("role IN ('teacher', 'school_staff', 'mediator', 'parent', 'principal', 'official', 'ngo_worker', 'community_leader')", name=op.f(f'ck_{table}_role_valid')),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f(f'fk_{table}_cohort_id_cohorts')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f(f'fk_{table}_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f(f'pk_{table}'))
    )


def upgrade() -> None:
    _counted('participation_months', sa.Column('month', sa.Date(), nullable=False))
    _counted('participation_totals')
    for table, indexes in (('participation_months', INDEXES), ('participation_totals', TOTAL_INDEXES)):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, columns in indexes.items():
                batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    for table, indexes in (('participation_totals', TOTAL_INDEXES), ('participation_months', INDEXES)):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name in reversed(indexes):
                batch_op.drop_index(name)
        op.drop_table(table)
