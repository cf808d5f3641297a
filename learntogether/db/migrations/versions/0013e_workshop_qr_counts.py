"""A workshop's QR message, whose check-in count the delivery worker keeps up to date

The count was kept by a task inside the bot process that sent the message: it stopped on a
restart, and check-ins handled by another process showed only on "Count again".

Revision ID: 0013e
Revises: 0012w
Create Date: 2026-12-07 23:10:00.000000

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0013e'
down_revision: str | Sequence[str] | None = '0012w'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('events') as batch:
        batch.add_column(sa.Column('qr_user_id', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('qr_chat_id', sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column('qr_message_id', sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column('qr_shown', sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f('fk_events_qr_user_id_users'), 'users', ['qr_user_id'], ['id'], ondelete='SET NULL'
        )


def downgrade() -> None:
    with op.batch_alter_table('events') as batch:
        batch.drop_constraint(op.f('fk_events_qr_user_id_users'), type_='foreignkey')
        batch.drop_column('qr_shown')
        batch.drop_column('qr_message_id')
        batch.drop_column('qr_chat_id')
        batch.drop_column('qr_user_id')
