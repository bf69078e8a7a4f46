"""issues, escalation, actions, follow-ups and signals

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.migrations.table_parts import add_columns, check, create_indexes, drop_columns, drop_table, foreign_key, history_columns, id_column, primary_key, reference_column, request_key_column, side_check, side_column, slack_id_column, time_column, unique


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_columns('partnerships',
        sa.Column('client_timezone', sa.String(length=64), nullable=True),
        sa.Column('provider_timezone', sa.String(length=64), nullable=True),
        sa.Column('client_workdays', sa.String(length=20), server_default='0,1,2,3,4', nullable=False),
        sa.Column('provider_workdays', sa.String(length=20), server_default='0,1,2,3,4', nullable=False),
        sa.Column('client_day_start', sa.String(length=5), server_default='09:00', nullable=False),
        sa.Column('client_day_end', sa.String(length=5), server_default='17:00', nullable=False),
        sa.Column('provider_day_start', sa.String(length=5), server_default='09:00', nullable=False),
        sa.Column('provider_day_end', sa.String(length=5), server_default='17:00', nullable=False),
        sa.Column('issue_categories', sa.JSON(), nullable=True),
        sa.Column('next_issue_number', sa.Integer(), server_default='1', nullable=False),
    )

    op.create_table('holidays',
    id_column(),
    reference_column('partnership_id'),
    side_column(),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    slack_id_column('created_by'),
    time_column('created_at'),
    side_check('holidays'),
    foreign_key('holidays', 'partnership_id', 'partnerships'),
    primary_key('holidays'),
    unique('holidays', 'partnership_id', 'side', 'day')
    )
    create_indexes('holidays', 'partnership_id')

    op.create_table('escalation_policies',
    id_column(),
    reference_column('partnership_id'),
    sa.Column('severity', sa.String(length=2), nullable=False),
    sa.Column('acknowledge_minutes', sa.Integer(), nullable=False),
    sa.Column('resolve_minutes', sa.Integer(), nullable=False),
    slack_id_column('updated_by'),
    time_column('updated_at'),
    check('escalation_policies', 'severity', "severity IN ('S1', 'S2', 'S3', 'S4')"),
    check('escalation_policies', 'positive', 'acknowledge_minutes > 0 AND resolve_minutes > 0'),
    foreign_key('escalation_policies', 'partnership_id', 'partnerships'),
    primary_key('escalation_policies'),
    unique('escalation_policies', 'partnership_id', 'severity')
    )
    create_indexes('escalation_policies', 'partnership_id')

    op.create_table('issues',
    id_column(),
    reference_column('partnership_id'),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=150), nullable=False),
    sa.Column('details', sa.Text(), nullable=False),
    sa.Column('severity', sa.String(length=2), nullable=False),
    sa.Column('category', sa.String(length=60), nullable=False),
    side_column('owning_side'),
    slack_id_column('owner_id'),
    slack_id_column('raised_by'),
    side_column('raised_by_side', nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    time_column('created_at'),
    time_column('opened_at'),
    time_column('acknowledged_at', nullable=True),
    slack_id_column('acknowledged_by', nullable=True),
    time_column('resolved_at', nullable=True),
    slack_id_column('resolved_by', nullable=True),
    sa.Column('escalation_level', sa.Integer(), nullable=False),
    time_column('next_escalation_at', nullable=True),
    sa.Column('card_ts', sa.String(length=32), nullable=True),
    sa.Column('source_permalink', sa.String(length=500), nullable=True),
    request_key_column(),
    time_column('updated_at'),
    check('issues', 'escalation_level', "escalation_level BETWEEN 0 AND 3"),
    side_check('issues', 'owning_side'),
    check('issues', 'severity', "severity IN ('S1', 'S2', 'S3', 'S4')"),
    check('issues', 'status', "status IN ('open', 'acknowledged', 'resolved')"),
    foreign_key('issues', 'partnership_id', 'partnerships'),
    primary_key('issues'),
    unique('issues', 'partnership_id', 'number'),
    unique('issues', 'partnership_id', 'request_key')
    )
    create_indexes('issues', ('ix_issues_due_escalation', ['status', 'next_escalation_at']), 'partnership_id')

    op.create_table('issue_events',
    *history_columns('issue_id'),
    sa.Column('level', sa.Integer(), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=True),
    check('issue_events', 'kind', "kind IN ('created', 'acknowledged', 'updated', 'reassigned', 'escalated', 'resolved', 'reopened', 'action_added', 'followup_added')"),
    foreign_key('issue_events', 'issue_id', 'issues'),
    primary_key('issue_events')
    )
    create_indexes('issue_events', 'issue_id')

    op.create_table('followups',
    id_column(),
    reference_column('issue_id'),
    side_column(),
    slack_id_column('author_id'),
    sa.Column('text', sa.Text(), nullable=False),
    request_key_column(),
    time_column('created_at'),
    side_check('followups'),
    foreign_key('followups', 'issue_id', 'issues'),
    primary_key('followups'),
    unique('followups', 'issue_id', 'request_key')
    )
    create_indexes('followups', 'issue_id')

    op.create_table('actions',
    id_column(),
    reference_column('partnership_id'),
    reference_column('issue_id', nullable=True),
    reference_column('followup_id', nullable=True),
    sa.Column('title', sa.String(length=150), nullable=False),
    slack_id_column('owner_id'),
    side_column(),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    slack_id_column('created_by'),
    time_column('created_at'),
    time_column('closed_at', nullable=True),
    slack_id_column('closed_by', nullable=True),
    sa.Column('last_reminded_on', sa.Date(), nullable=True),
    request_key_column(),
    time_column('updated_at'),
    side_check('actions'),
    check('actions', 'status', "status IN ('open', 'done', 'dropped')"),
    foreign_key('actions', 'followup_id', 'followups', ondelete='SET NULL'),
    foreign_key('actions', 'issue_id', 'issues', ondelete='SET NULL'),
    foreign_key('actions', 'partnership_id', 'partnerships'),
    primary_key('actions'),
    unique('actions', 'followup_id'),
    unique('actions', 'partnership_id', 'request_key')
    )
    create_indexes('actions', 'issue_id', ('ix_actions_overdue', ['status', 'due_on']), 'partnership_id')

    op.create_table('signals',
    id_column(),
    reference_column('partnership_id'),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('subject', sa.String(length=60), nullable=False),
    side_column(nullable=True),
    reference_column('round_id', nullable=True),
    sa.Column('dedupe_key', sa.String(length=200), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=True),
    time_column('created_at'),
    check('signals', 'kind', "kind IN ('drop', 'gap', 'recurring_category')"),
    foreign_key('signals', 'partnership_id', 'partnerships'),
    foreign_key('signals', 'round_id', 'pulse_rounds', ondelete='SET NULL'),
    primary_key('signals'),
    unique('signals', 'dedupe_key')
    )
    create_indexes('signals', 'partnership_id', ('ix_signals_subject', ['partnership_id', 'kind', 'subject', 'created_at']))


def downgrade() -> None:
    drop_table('signals', 'partnership_id', ('ix_signals_subject', ['partnership_id', 'kind', 'subject', 'created_at']))
    drop_table('actions', 'issue_id', ('ix_actions_overdue', ['status', 'due_on']), 'partnership_id')
    drop_table('followups', 'issue_id')
    drop_table('issue_events', 'issue_id')
    drop_table('issues', ('ix_issues_due_escalation', ['status', 'next_escalation_at']), 'partnership_id')
    drop_table('escalation_policies', 'partnership_id')
    drop_table('holidays', 'partnership_id')
    drop_columns('partnerships', 'next_issue_number', 'issue_categories', 'provider_day_end', 'provider_day_start', 'client_day_end', 'client_day_start', 'provider_workdays', 'client_workdays', 'provider_timezone', 'client_timezone')
