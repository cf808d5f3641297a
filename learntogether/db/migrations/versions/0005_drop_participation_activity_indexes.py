"""Drop the activity indexes participation no longer reads

Participation reads ``participation_counts`` (0004); these two covering indexes of 0003 were
only for it, and cost every activity write and about 240 MB per two million activities.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 19:31:28.306034

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0005'
down_revision: str | Sequence[str] | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.drop_index('ix_activities_cohort_id_user_id')
        batch_op.drop_index('ix_activities_region_user_id')


def downgrade() -> None:
    with op.batch_alter_table('activities', schema=None) as batch_op:
        batch_op.create_index('ix_activities_cohort_id_user_id', ['cohort_id', 'user_id'], unique=False, postgresql_include=['verb', 'assisted', 'lesson_id', 'occurred_at', 'track_id'])
        batch_op.create_index('ix_activities_region_user_id', ['region', 'user_id'], unique=False, postgresql_include=['verb', 'assisted', 'lesson_id', 'occurred_at', 'cohort_id', 'track_id'])
