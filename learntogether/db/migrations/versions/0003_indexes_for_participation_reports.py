"""Indexes for participation reports

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 17:20:36.026680

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0003'
down_revision: str | Sequence[str] | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.create_index('ix_activities_cohort_id_user_id', ['cohort_id', 'user_id'], unique=False, postgresql_include=['verb', 'assisted', 'lesson_id', 'occurred_at', 'track_id'])
        batch_op.create_index('ix_activities_completed_user_id_lesson_id', ['user_id', 'lesson_id', 'id'], unique=False, postgresql_where=sa.text("verb = 'completed'"), sqlite_where=sa.text("verb = 'completed'"))
        batch_op.create_index('ix_activities_region_user_id', ['region', 'user_id'], unique=False, postgresql_include=['verb', 'assisted', 'lesson_id', 'occurred_at', 'cohort_id', 'track_id'])



def downgrade() -> None:
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.drop_index('ix_activities_region_user_id', postgresql_include=['verb', 'assisted', 'lesson_id', 'occurred_at', 'cohort_id', 'track_id'])
        batch_op.drop_index('ix_activities_completed_user_id_lesson_id', postgresql_where=sa.text("verb = 'completed'"), sqlite_where=sa.text("verb = 'completed'"))
        batch_op.drop_index('ix_activities_cohort_id_user_id', postgresql_include=['verb', 'assisted', 'lesson_id', 'occurred_at', 'track_id'])

