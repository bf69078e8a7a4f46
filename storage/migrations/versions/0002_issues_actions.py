"""issues, escalation, actions, follow-ups and signals

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa

from storage.migrations.table_parts import add_columns, create_table, drop_columns, drop_table, history_columns, id_column, reference_column, request_key_column, side_column, side_condition, slack_id_column, time_column


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

    create_table('holidays',
    id_column(),
    reference_column('partnership_id'),
    side_column(),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    slack_id_column('created_by'),
    time_column('created_at'),
    checks={'side': side_condition()},
    references={'partnership_id': 'partnerships'},
    unique=[('partnership_id', 'side', 'day')],
    indexes=['partnership_id'],
    )

    create_table('escalation_policies',
    id_column(),
    reference_column('partnership_id'),
    sa.Column('severity', sa.String(length=2), nullable=False),
    sa.Column('acknowledge_minutes', sa.Integer(), nullable=False),
    sa.Column('resolve_minutes', sa.Integer(), nullable=False),
    slack_id_column('updated_by'),
    time_column('updated_at'),
    checks={'severity': "severity IN ('S1', 'S2', 'S3', 'S4')", 'positive': 'acknowledge_minutes > 0 AND resolve_minutes > 0'},
    references={'partnership_id': 'partnerships'},
    unique=[('partnership_id', 'severity')],
    indexes=['partnership_id'],
    )

    create_table('issues',
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
    checks={'escalation_level': "escalation_level BETWEEN 0 AND 3", 'owning_side': side_condition('owning_side'), 'severity': "severity IN ('S1', 'S2', 'S3', 'S4')", 'status': "status IN ('open', 'acknowledged', 'resolved')"},
    references={'partnership_id': 'partnerships'},
    unique=[('partnership_id', 'number'), ('partnership_id', 'request_key')],
    indexes=[('ix_issues_due_escalation', ['status', 'next_escalation_at']), 'partnership_id'],
    )

    create_table('issue_events',
    *history_columns('issue_id'),
    sa.Column('level', sa.Integer(), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=True),
    checks={'kind': "kind IN ('created', 'acknowledged', 'updated', 'reassigned', 'escalated', 'resolved', 'reopened', 'action_added', 'followup_added')"},
    references={'issue_id': 'issues'},
    indexes=['issue_id'],
    )

    create_table('followups',
    id_column(),
    reference_column('issue_id'),
    side_column(),
    slack_id_column('author_id'),
    sa.Column('text', sa.Text(), nullable=False),
    request_key_column(),
    time_column('created_at'),
    checks={'side': side_condition()},
    references={'issue_id': 'issues'},
    unique=[('issue_id', 'request_key')],
    indexes=['issue_id'],
    )

    create_table('actions',
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
    checks={'side': side_condition(), 'status': "status IN ('open', 'done', 'dropped')"},
    references={'followup_id': ('followups', 'SET NULL'), 'issue_id': ('issues', 'SET NULL'), 'partnership_id': 'partnerships'},
    unique=[('followup_id',), ('partnership_id', 'request_key')],
    indexes=['issue_id', ('ix_actions_overdue', ['status', 'due_on']), 'partnership_id'],
    )

    create_table('signals',
    id_column(),
    reference_column('partnership_id'),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('subject', sa.String(length=60), nullable=False),
    side_column(nullable=True),
    reference_column('round_id', nullable=True),
    sa.Column('dedupe_key', sa.String(length=200), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=True),
    time_column('created_at'),
    checks={'kind': "kind IN ('drop', 'gap', 'recurring_category')"},
    references={'partnership_id': 'partnerships', 'round_id': ('pulse_rounds', 'SET NULL')},
    unique=[('dedupe_key',)],
    indexes=['partnership_id', ('ix_signals_subject', ['partnership_id', 'kind', 'subject', 'created_at'])],
    )


def downgrade() -> None:
    drop_table('signals', 'partnership_id', ('ix_signals_subject', ['partnership_id', 'kind', 'subject', 'created_at']))
    drop_table('actions', 'issue_id', ('ix_actions_overdue', ['status', 'due_on']), 'partnership_id')
    drop_table('followups', 'issue_id')
    drop_table('issue_events', 'issue_id')
    drop_table('issues', ('ix_issues_due_escalation', ['status', 'next_escalation_at']), 'partnership_id')
    drop_table('escalation_policies', 'partnership_id')
    drop_table('holidays', 'partnership_id')
    drop_columns('partnerships', 'next_issue_number', 'issue_categories', 'provider_day_end', 'provider_day_start', 'client_day_end', 'client_day_start', 'provider_workdays', 'client_workdays', 'provider_timezone', 'client_timezone')
