"""Audit entries name the acting learner's id; live tokens have unique names

A mediator acting in the bot is recorded with their user id, as a token is with its id. Two live
tokens with one name could not be told apart in the audit log: the later ones of any such pair
are renamed ``<name>-<id>`` before the unique index is made.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 21:20:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0006'
down_revision: str | Sequence[str] | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE = sa.text('revoked_at IS NULL')


def upgrade() -> None:
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('actor_user_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_audit_log_actor_user_id_users'), 'users', ['actor_user_id'], ['id'], ondelete='SET NULL'
        )
    op.execute(
        "UPDATE api_tokens SET name = substr(name, 1, 80) || '-' || CAST(id AS VARCHAR(20)) "
        "WHERE revoked_at IS NULL AND EXISTS (SELECT 1 FROM api_tokens AS earlier "
        "WHERE earlier.name = api_tokens.name AND earlier.revoked_at IS NULL AND earlier.id < api_tokens.id)"
    )
    op.create_index('uq_api_tokens_live_name', 'api_tokens', ['name'], unique=True, postgresql_where=LIVE, sqlite_where=LIVE)


def downgrade() -> None:
    op.drop_index('uq_api_tokens_live_name', table_name='api_tokens', postgresql_where=LIVE, sqlite_where=LIVE)
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_audit_log_actor_user_id_users'), type_='foreignkey')
        batch_op.drop_column('actor_user_id')
