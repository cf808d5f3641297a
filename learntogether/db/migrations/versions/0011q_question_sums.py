"""Item analysis's sums per lesson version, question and choice, over first finished attempts

The table starts empty; ``learntogether db upgrade`` fills it from the answers right after
(``db/question_sums.py``), with the code that keeps it up to date.

Revision ID: 0011q
Revises: 0011w
Create Date: 2026-12-07 12:10:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0011q'
down_revision: str | Sequence[str] | None = '0011w'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('question_sums',
    sa.Column('lesson_version_id', sa.Integer(), nullable=False),
    sa.Column('first_of_lesson', sa.Boolean(), nullable=False),
    sa.Column('question_key', sa.String(length=64), nullable=False),
    sa.Column('choice', sa.String(length=255), nullable=False),
    sa.Column('answers', sa.BigInteger(), nullable=False),
    sa.Column('right_answers', sa.BigInteger(), nullable=False),
    sa.Column('rest', sa.BigInteger(), nullable=False),
    sa.Column('right_times_rest', sa.BigInteger(), nullable=False),
    sa.Column('rest_squared', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['lesson_version_id'], ['lesson_versions.id'], name=op.f('fk_question_sums_lesson_version_id_lesson_versions')),
    sa.PrimaryKeyConstraint('lesson_version_id', 'first_of_lesson', 'question_key', 'choice', name=op.f('pk_question_sums'))
    )


def downgrade() -> None:
    op.drop_table('question_sums')
