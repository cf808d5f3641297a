"""The weeks' roll-up holds weeks on the programme's clocks (UTC to UTC+3): from a Monday's
midnight (UTC) to three hours before the next, instead of 14 hours from either end

The rows were summed with the old margins, so the table is emptied; ``learntogether db upgrade``
fills it again from the participation counts right after (``db/activity_log.py``), with the code
that keeps it up to date. Downgrading empties it the same way for the older code.

Revision ID: 0012w
Revises: 0011q
Create Date: 2026-12-07 15:40:00.000000

"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0012w'
down_revision: str | Sequence[str] | None = '0011q'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute('DELETE FROM participation_weeks')


def downgrade() -> None:
    op.execute('DELETE FROM participation_weeks')
