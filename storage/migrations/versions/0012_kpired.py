"""kpis.red_checked_at: how far the red-KPI pass has looked at a KPI's figures (issue 14, item 4), and the index
its claim reads (kpi_values by KPI and time recorded)

Revision ID: 0012_kpired
Revises: 0011
Create Date: 2026-12-02 13:15:00

The heartbeat's red-KPI pass claims KPIs with a figure recorded (or replaced) after this instant, so a figure is
looked at once whatever its status; NULL: none looked at yet.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0012_kpired'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('kpis') as batch_op:
        batch_op.add_column(sa.Column('red_checked_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('kpi_values') as batch_op:
        batch_op.create_index('ix_kpi_values_recorded', ['kpi_id', 'recorded_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('kpi_values') as batch_op:
        batch_op.drop_index('ix_kpi_values_recorded')
    with op.batch_alter_table('kpis') as batch_op:
        batch_op.drop_column('red_checked_at')
