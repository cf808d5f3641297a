"""Remember the native quiz poll a question was sent as, so its answer finds the attempt.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 15:35:18.461192

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("quiz_attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("poll_id", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_quiz_attempts_poll_id"), ["poll_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("quiz_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quiz_attempts_poll_id"))
        batch_op.drop_column("poll_id")
