"""kpi_value_history: a KPI figure as it was before a later one replaced it, so a digest reads its KPI figures as
they were when it was made

Revision ID: 0014_kpi_value_history
Revises: 0013_installations
Create Date: 2026-12-03 07:40:00

A figure recorded again for the same KPI and period replaces the ``kpi_values`` row in place; the row it replaces
is copied here first, with the instant it was replaced. Figures replaced before this migration are not known: the
table starts empty.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from storage.migrations.table_parts import create_table, drop_table, id_column, reference_column, time_column


revision: str = '0014_kpi_value_history'
down_revision: str | None = '0013_installations'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KPI_PERIOD_INDEX = ('ix_kpi_value_history_kpi_period', ['kpi_id', 'period_end'])


def upgrade() -> None:
    create_table(
        'kpi_value_history',
        id_column(),
        reference_column('kpi_id'),
        sa.Column('period_end', sa.Date(), nullable=False),
        sa.Column('value', sa.Float(), nullable=False),
        sa.Column('note', sa.Text(), nullable=True),
        sa.Column('source', sa.String(length=5), nullable=False),
        sa.Column('recorded_by', sa.String(length=100), nullable=False),
        time_column('recorded_at'),
        time_column('replaced_at'),
        checks={'source': "source IN ('slack', 'csv', 'api')"},
        references={'kpi_id': 'kpis'},
        indexes=[KPI_PERIOD_INDEX],
    )


def downgrade() -> None:
    drop_table('kpi_value_history', KPI_PERIOD_INDEX)
