"""kpis, kpi_versions, kpi_values, api_tokens: agreed KPIs beside how people feel (issue 14, DESIGN 3.6)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 12:50:53.354209

Adds the KPI ledger (a KPI, its versions as proposed and agreed, one figure per KPI and period), the
partnership's bearer tokens for the figures endpoint, a red KPI's actions (actions.kpi_id), the partnership's KPI
numbering and escalation policy, and the watermelon check's two signal kinds. Nothing existing changes meaning.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=80), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('hint', sa.String(length=8), nullable=False),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_by', sa.String(length=32), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnerships.id'], name=op.f('fk_api_tokens_partnership_id_partnerships'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_partnership_id'), ['partnership_id'], unique=False)

    op.create_table('kpis',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partnership_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('delivered_by', sa.String(length=10), nullable=False),
    sa.Column('current_version', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('request_key', sa.String(length=100), nullable=True),
    sa.Column('next_request_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('requested_period_end', sa.Date(), nullable=True),
    sa.Column('red_question_period_end', sa.Date(), nullable=True),
    sa.Column('escalation_issue_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("delivered_by IN ('client', 'provider')", name=op.f('ck_kpis_delivered_by')),
    sa.ForeignKeyConstraint(['escalation_issue_id'], ['issues.id'], name=op.f('fk_kpis_escalation_issue_id_issues'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['partnership_id'], ['partnerships.id'], name=op.f('fk_kpis_partnership_id_partnerships'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kpis')),
    sa.UniqueConstraint('partnership_id', 'key', name=op.f('uq_kpis_partnership_id_key')),
    sa.UniqueConstraint('partnership_id', 'number', name=op.f('uq_kpis_partnership_id_number')),
    sa.UniqueConstraint('partnership_id', 'request_key', name=op.f('uq_kpis_partnership_id_request_key'))
    )
    with op.batch_alter_table('kpis', schema=None) as batch_op:
        batch_op.create_index('ix_kpis_due_request', ['next_request_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_kpis_partnership_id'), ['partnership_id'], unique=False)

    op.create_table('kpi_values',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kpi_id', sa.Integer(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('source', sa.String(length=5), nullable=False),
    sa.Column('recorded_by', sa.String(length=100), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("source IN ('slack', 'csv', 'api')", name=op.f('ck_kpi_values_source')),
    sa.ForeignKeyConstraint(['kpi_id'], ['kpis.id'], name=op.f('fk_kpi_values_kpi_id_kpis'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kpi_values')),
    sa.UniqueConstraint('kpi_id', 'period_end', name=op.f('uq_kpi_values_kpi_id_period_end'))
    )
    with op.batch_alter_table('kpi_values', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kpi_values_kpi_id'), ['kpi_id'], unique=False)

    op.create_table('kpi_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kpi_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('measure', sa.Text(), nullable=False),
    sa.Column('unit', sa.String(length=16), nullable=False),
    sa.Column('direction', sa.String(length=6), nullable=False),
    sa.Column('target', sa.Float(), nullable=False),
    sa.Column('amber', sa.Float(), nullable=False),
    sa.Column('red', sa.Float(), nullable=False),
    sa.Column('period', sa.String(length=8), nullable=False),
    sa.Column('dimension', sa.String(length=32), nullable=False),
    sa.Column('owner_id', sa.String(length=32), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('proposed_side', sa.String(length=10), nullable=False),
    sa.Column('proposed_by', sa.String(length=32), nullable=False),
    sa.Column('proposed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('responded_by', sa.String(length=32), nullable=True),
    sa.Column('responded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('response', sa.Text(), nullable=True),
    sa.Column('effective_from', sa.Date(), nullable=True),
    sa.CheckConstraint("direction IN ('higher', 'lower')", name=op.f('ck_kpi_versions_direction')),
    sa.CheckConstraint("period IN ('weekly', 'monthly')", name=op.f('ck_kpi_versions_period')),
    sa.CheckConstraint("proposed_side IN ('client', 'provider')", name=op.f('ck_kpi_versions_proposed_side')),
    sa.CheckConstraint("status IN ('proposed', 'agreed', 'discussing', 'withdrawn', 'superseded')", name=op.f('ck_kpi_versions_status')),
    sa.ForeignKeyConstraint(['kpi_id'], ['kpis.id'], name=op.f('fk_kpi_versions_kpi_id_kpis'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kpi_versions')),
    sa.UniqueConstraint('kpi_id', 'version', name=op.f('uq_kpi_versions_kpi_id_version'))
    )
    with op.batch_alter_table('kpi_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kpi_versions_kpi_id'), ['kpi_id'], unique=False)

    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kpi_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_actions_kpi_id'), ['kpi_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_actions_kpi_id_kpis'), 'kpis', ['kpi_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('partnerships', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_kpi_number', sa.Integer(), server_default='1', nullable=False))
        batch_op.add_column(sa.Column('kpi_red_periods_to_escalate', sa.Integer(), server_default='3', nullable=False))

    with op.batch_alter_table('signals', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_signals_kind'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_signals_kind'), "kind IN ('drop', 'gap', 'recurring_category', 'kpis_green_unhappy', 'kpis_red_happy')")



def downgrade() -> None:
    op.execute("DELETE FROM signals WHERE kind IN ('kpis_green_unhappy', 'kpis_red_happy')")
    with op.batch_alter_table('signals', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_signals_kind'), type_='check')
        batch_op.create_check_constraint(batch_op.f('ck_signals_kind'), "kind IN ('drop', 'gap', 'recurring_category')")

    with op.batch_alter_table('partnerships', schema=None) as batch_op:
        batch_op.drop_column('kpi_red_periods_to_escalate')
        batch_op.drop_column('next_kpi_number')

    with op.batch_alter_table('actions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_actions_kpi_id_kpis'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_actions_kpi_id'))
        batch_op.drop_column('kpi_id')

    with op.batch_alter_table('kpi_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kpi_versions_kpi_id'))

    op.drop_table('kpi_versions')
    with op.batch_alter_table('kpi_values', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kpi_values_kpi_id'))

    op.drop_table('kpi_values')
    with op.batch_alter_table('kpis', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kpis_partnership_id'))
        batch_op.drop_index('ix_kpis_due_request')

    op.drop_table('kpis')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_partnership_id'))

    op.drop_table('api_tokens')
