"""Why a delivery waits, the status message a mediator follows, and the mediator-role notice

``deliveries.wait_reason`` says why a pending row waits past its broadcast's send time (the
learner's quiet hours, a pause Telegram asked for, a retry), so a mediator's status can say so.
``broadcasts.status_chat_id``/``status_message_id``/``status_digest`` are the status message its
author follows in the bot, which the delivery worker keeps up to date. Broadcasts of kind
``mediator_role`` tell a learner their mediator role changed.

Revision ID: 0008m
Revises: 0008l
Create Date: 2026-12-07 03:10:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0008m'
down_revision: str | Sequence[str] | None = '0008l'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = "'broadcast', 'reminder', 'nudge', 'certificate'"


def upgrade() -> None:
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('wait_reason', sa.String(length=32), nullable=True))
        batch_op.create_check_constraint(
            'wait_reason_valid', "wait_reason IN ('quiet_hours', 'pause', 'retry')"
        )
    with op.batch_alter_table('broadcasts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status_chat_id', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('status_message_id', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('status_digest', sa.String(length=64), nullable=True))
        batch_op.drop_constraint(op.f('ck_broadcasts_kind_valid'), type_='check')
        batch_op.create_check_constraint('kind_valid', f"kind IN ({KINDS}, 'mediator_role')")


def downgrade() -> None:
    op.execute("DELETE FROM broadcasts WHERE kind = 'mediator_role'")
    with op.batch_alter_table('broadcasts', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_broadcasts_kind_valid'), type_='check')
        batch_op.create_check_constraint('kind_valid', f"kind IN ({KINDS})")
        batch_op.drop_column('status_digest')
        batch_op.drop_column('status_message_id')
        batch_op.drop_column('status_chat_id')
    with op.batch_alter_table('deliveries', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_deliveries_wait_reason_valid'), type_='check')
        batch_op.drop_column('wait_reason')
