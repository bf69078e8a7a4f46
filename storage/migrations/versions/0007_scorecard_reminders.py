"""scorecards.remind_at, scorecards.reminded_at: the one nudge before a scorecard closes

Revision ID: 0007
Revises: 0006
Create Date: 2027-01-12 09:00:00.000000

Scorecards get the reminder pulse rounds have (DESIGN 3.2): when it is due and when it was queued. Scorecards
opened before this migration have none (remind_at NULL): the ones still open close without a nudge, as before.
"""

from collections.abc import Sequence

from storage.migrations.table_parts import add_columns, drop_columns, time_column


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_columns('scorecards', time_column('remind_at', nullable=True), time_column('reminded_at', nullable=True))


def downgrade() -> None:
    drop_columns('scorecards', 'reminded_at', 'remind_at')
