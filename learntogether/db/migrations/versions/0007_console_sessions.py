"""Staff sessions of the web console

A one-time sign-in link opens a session; only hashes of their secrets are kept. A session made
for a mediator from the command line reaches the cohorts listed in console_session_cohorts.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 00:12:35.931896

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0007'
down_revision: str | Sequence[str] | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('console_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('link_hash', sa.String(length=64), nullable=False),
    sa.Column('link_expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('session_hash', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('signed_in_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('user_agent', sa.String(length=200), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_by', sa.String(length=100), nullable=True),
    sa.CheckConstraint("role IN ('admin', 'mediator', 'viewer')", name=op.f('ck_console_sessions_role_valid')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_console_sessions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_console_sessions')),
    sa.UniqueConstraint('link_hash', name=op.f('uq_console_sessions_link_hash')),
    sa.UniqueConstraint('session_hash', name=op.f('uq_console_sessions_session_hash'))
    )
    with op.batch_alter_table('console_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_console_sessions_user_id'), ['user_id'], unique=False)

    op.create_table('console_session_cohorts',
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohorts.id'], name=op.f('fk_console_session_cohorts_cohort_id_cohorts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['console_sessions.id'], name=op.f('fk_console_session_cohorts_session_id_console_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('session_id', 'cohort_id', name=op.f('pk_console_session_cohorts'))
    )


def downgrade() -> None:
    op.drop_table('console_session_cohorts')
    with op.batch_alter_table('console_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_console_sessions_user_id'))

    op.drop_table('console_sessions')
