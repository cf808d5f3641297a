"""Certificate names the learner chose, and spaced review

``users.certificate_name`` is the name a learner chose to print on certificates. ``reviews`` holds
the rounds of spaced review (one, three and seven days after a quiz) of the questions answered
wrong; their invitations are outbox rows of the new kind ``review``, and a finished review is the
activity ``reviewed``, counted in ``participation_counts.reviewed``.

Revision ID: 0008g
Revises: 0008m
Create Date: 2026-12-07 03:05:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = '0008g'
down_revision: str | Sequence[str] | None = '0008m'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VERBS = ['joined', 'started', 'step', 'answered', 'completed', 'passed', 'failed', 'attended',
         'reminded', 'nudged', 'certified']
# After 0008m, which added 'mediator_role'.
KINDS = ['broadcast', 'reminder', 'nudge', 'certificate', 'mediator_role']
FIGURES = ['joined', 'active', 'assisted', 'lessons_started', 'lessons_completed',
           'tracks_completed', 'certificates', 'attended', 'assisted_lessons_completed',
           'assisted_attended']


def _values(values: list[str]) -> str:
    return ', '.join(f"'{value}'" for value in values)


def _check(table: str, column: str, values: list[str]) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.drop_constraint(op.f(f'ck_{table}_{column}_valid'), type_='check')
        batch_op.create_check_constraint(
            op.f(f'ck_{table}_{column}_valid'), f'{column} IN ({_values(values)})'
        )


def _figure_indexes(figures: list[str]) -> None:
    """The participation indexes carry every figure as index columns (0008r made them covering on
    SQLite too, which has no INCLUDE)."""
    with op.batch_alter_table('participation_counts', schema=None) as batch_op:
        batch_op.drop_index('ix_participation_counts_cohort_id_user_id')
        batch_op.drop_index('ix_participation_counts_region_user_id')
        batch_op.create_index('ix_participation_counts_cohort_id_user_id', ['cohort_id', 'user_id', 'occurred_at', *figures, 'track_id'], unique=False)
        batch_op.create_index('ix_participation_counts_region_user_id', ['region', 'user_id', 'occurred_at', *figures, 'cohort_id', 'track_id'], unique=False)


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('certificate_name', sa.String(length=200), nullable=True))
    op.create_table('reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('lesson_id', sa.Integer(), nullable=False),
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('after_days', sa.Integer(), nullable=False),
    sa.Column('question_keys', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=32), server_default='scheduled', nullable=False),
    sa.Column('delivery_id', sa.Integer(), nullable=True),
    sa.Column('position', sa.Integer(), server_default='0', nullable=False),
    sa.Column('correct', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('after_days > 0', name=op.f('ck_reviews_after_days_positive')),
    sa.CheckConstraint('correct >= 0', name=op.f('ck_reviews_correct_not_negative')),
    sa.CheckConstraint('position >= 0', name=op.f('ck_reviews_position_not_negative')),
    sa.CheckConstraint("status IN ('scheduled', 'queued', 'started', 'done', 'skipped', 'dropped')", name=op.f('ck_reviews_status_valid')),
    sa.ForeignKeyConstraint(['attempt_id'], ['quiz_attempts.id'], name=op.f('fk_reviews_attempt_id_quiz_attempts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['delivery_id'], ['deliveries.id'], name=op.f('fk_reviews_delivery_id_deliveries'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['lesson_id'], ['lessons.id'], name=op.f('fk_reviews_lesson_id_lessons'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_reviews_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reviews')),
    sa.UniqueConstraint('attempt_id', 'after_days', name=op.f('uq_reviews_attempt_id_after_days'))
    )
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.create_index('ix_reviews_status_due_at', ['status', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_reviews_delivery_id'), ['delivery_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reviews_user_id'), ['user_id'], unique=False)
    _check('activities', 'verb', [*VERBS, 'reviewed'])
    _check('broadcasts', 'kind', [*KINDS, 'review'])
    with op.batch_alter_table('participation_counts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reviewed', sa.Integer(), server_default='0', nullable=False))
    _figure_indexes([*FIGURES, 'reviewed'])


def downgrade() -> None:
    _figure_indexes(FIGURES)
    with op.batch_alter_table('participation_counts', schema=None) as batch_op:
        batch_op.drop_column('reviewed')
    op.execute("DELETE FROM activities WHERE verb = 'reviewed'")
    op.execute("DELETE FROM deliveries WHERE broadcast_id IN (SELECT id FROM broadcasts WHERE kind = 'review')")
    op.execute("DELETE FROM broadcasts WHERE kind = 'review'")
    _check('broadcasts', 'kind', KINDS)
    _check('activities', 'verb', VERBS)
    op.drop_table('reviews')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('certificate_name')
