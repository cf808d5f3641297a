"""Reflections newest first: a partial index of open answers with their text

Revision ID: 0008x
Revises: 0008g
Create Date: 2026-12-07 04:05:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0008x'
down_revision: str | Sequence[str] | None = '0008g'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHERE = "kind = 'open' AND text IS NOT NULL"


def upgrade() -> None:
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.create_index(
            'ix_answers_reflections_answered_at',
            ['answered_at', 'id'],
            unique=False,
            postgresql_where=sa.text(WHERE),
            sqlite_where=sa.text(WHERE),
        )


def downgrade() -> None:
    with op.batch_alter_table('answers', schema=None) as batch_op:
        batch_op.drop_index('ix_answers_reflections_answered_at')
