"""action_events, goal_events: the history of actions and shared goals, so weekly figures show them as they were

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 09:00:00.000000

Issues already keep their history (issue_events); actions and goals kept only their current state, so a digest or
an export of an earlier week showed them as they are today. From this revision the services record every change
(an action created, done, dropped, reopened or given a new due date; a goal created or its status changed).

Backfill, from the current rows, as far as they tell:
- each action: "created" at created_at, open, with its current due date; a done or dropped action also gets a
  "status_changed" entry at closed_at. Limits: a due date changed before this revision is taken as the date it
  always had; an action reopened and closed again shows only its last closing.
- each goal: a done goal "created" on track at created_at and "status_changed" to done at updated_at (its last
  change); any other goal "created" with its current status at created_at. Limits: a goal's earlier statuses
  (at risk, then back on track...) are not known, so weeks before this revision show its current status, and a
  done goal whose note changed after it was marked done shows as done from that later change.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.migrations.table_parts import create_table, drop_table, history_columns


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_table('action_events',
    *history_columns('action_id'),
    sa.Column('status', sa.String(length=10), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=True),
    checks={'kind': "kind IN ('created', 'status_changed', 'due_changed')", 'status': "status IS NULL OR status IN ('open', 'done', 'dropped')"},
    references={'action_id': 'actions'},
    indexes=['action_id'],
    )

    create_table('goal_events',
    *history_columns('goal_id'),
    sa.Column('status', sa.String(length=10), nullable=False),
    checks={'kind': "kind IN ('created', 'status_changed')", 'status': "status IN ('on_track', 'at_risk', 'off_track', 'done')"},
    references={'goal_id': 'goals'},
    indexes=['goal_id'],
    )

    # The backfill (see the docstring for what it cannot know). Plain SQL that SQLite and PostgreSQL both run.
    op.execute(
        "INSERT INTO action_events (action_id, at, actor, kind, status, due_on) "
        "SELECT id, created_at, created_by, 'created', 'open', due_on FROM actions"
    )
    op.execute(
        "INSERT INTO action_events (action_id, at, actor, kind, status, due_on) "
        "SELECT id, closed_at, closed_by, 'status_changed', status, NULL FROM actions "
        "WHERE status IN ('done', 'dropped') AND closed_at IS NOT NULL"
    )
    op.execute(
        "INSERT INTO goal_events (goal_id, at, actor, kind, status) "
        "SELECT id, created_at, created_by, 'created', CASE WHEN status = 'done' AND updated_at > created_at "
        "THEN 'on_track' ELSE status END FROM goals"
    )
    op.execute(
        "INSERT INTO goal_events (goal_id, at, actor, kind, status) "
        "SELECT id, updated_at, updated_by, 'status_changed', 'done' FROM goals "
        "WHERE status = 'done' AND updated_at > created_at"
    )


def downgrade() -> None:
    drop_table('goal_events', 'goal_id')
    drop_table('action_events', 'action_id')
