"""Participation by week away from week boundaries, for reports by week in any time zone

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
INDEXES = {
    'ix_participation_weeks_user_id_week': ['user_id', 'week'],
    'ix_participation_weeks_region_user_id': ['region', 'user_id', 'week', *FIGURES, 'cohort_id'],
    'ix_participation_weeks_cohort_id_user_id': ['cohort_id', 'user_id', 'week', *FIGURES],
    'ix_participation_weeks_week': ['week', 'user_id', 'cohort_id', *FIGURES],
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
        for name, columns in INDEXES.items():
            batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    with op.batch_alter_table(TABLE, schema=None) as batch_op:
        for name in reversed(INDEXES):
            batch_op.drop_index(name)
    op.drop_table(TABLE)
