"""slack_installations, slack_bots, slack_oauth_states, workspaces.uninstalled_at and needs_reinstall_at: the app
installed by OAuth in many workspaces (issue 15)

Revision ID: 0013_installations
Revises: 0012_kpired
Create Date: 2026-12-02 16:40:00

The three tables carry slack_sdk's column and index names (its SQLAlchemy installation and state stores), with
every token column as Text: it holds ciphertext, longer than slack_sdk's String(200). The OAuth state's value is
unique: consuming one is a single DELETE by it. A workspace records when the app was uninstalled from it and when
its rotating token could not be refreshed (someone must install the app again); NULL for the workspaces already
stored (installed with a single bot token).
"""

from collections.abc import Sequence

import sqlalchemy as sa

from storage.migrations.table_parts import add_columns, create_table, drop_columns, drop_table, id_column, time_column


revision: str = '0013_installations'
down_revision: str | None = '0012_kpired'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INSTALLATIONS_INDEX = ('slack_installations_idx', ['client_id', 'enterprise_id', 'team_id', 'user_id', 'installed_at'])
BOTS_INDEX = ('slack_bots_idx', ['client_id', 'enterprise_id', 'team_id', 'installed_at'])


def _bot_columns() -> list[sa.Column]:
    """The bot's columns, as both tables hold them (after the enterprise's and team's)."""
    return [
        sa.Column('bot_token', sa.Text(), nullable=True),
        sa.Column('bot_id', sa.String(length=32), nullable=True),
        sa.Column('bot_user_id', sa.String(length=32), nullable=True),
        sa.Column('bot_scopes', sa.String(length=1000), nullable=True),
        sa.Column('bot_refresh_token', sa.Text(), nullable=True),
        time_column('bot_token_expires_at', nullable=True),
    ]


def _owner_columns(*, with_url: bool) -> list[sa.Column]:
    """The app and the organisation it is installed in."""
    columns = [
        id_column(),
        sa.Column('client_id', sa.String(length=32), nullable=False),
        sa.Column('app_id', sa.String(length=32), nullable=False),
        sa.Column('enterprise_id', sa.String(length=32), nullable=True),
        sa.Column('enterprise_name', sa.String(length=200), nullable=True),
    ]
    if with_url:
        columns.append(sa.Column('enterprise_url', sa.String(length=200), nullable=True))
    return [
        *columns,
        sa.Column('team_id', sa.String(length=32), nullable=True),
        sa.Column('team_name', sa.String(length=200), nullable=True),
    ]


def upgrade() -> None:
    create_table(
        'slack_installations',
        *_owner_columns(with_url=True),
        *_bot_columns(),
        sa.Column('user_id', sa.String(length=32), nullable=False),
        sa.Column('user_token', sa.Text(), nullable=True),
        sa.Column('user_scopes', sa.String(length=1000), nullable=True),
        sa.Column('user_refresh_token', sa.Text(), nullable=True),
        time_column('user_token_expires_at', nullable=True),
        sa.Column('incoming_webhook_url', sa.Text(), nullable=True),
        sa.Column('incoming_webhook_channel', sa.String(length=200), nullable=True),
        sa.Column('incoming_webhook_channel_id', sa.String(length=200), nullable=True),
        sa.Column('incoming_webhook_configuration_url', sa.String(length=200), nullable=True),
        sa.Column('is_enterprise_install', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column('token_type', sa.String(length=32), nullable=True),
        time_column('installed_at'),
        indexes=[INSTALLATIONS_INDEX],
    )
    create_table(
        'slack_bots',
        *_owner_columns(with_url=False),
        *_bot_columns(),
        sa.Column('is_enterprise_install', sa.Boolean(), server_default=sa.false(), nullable=False),
        time_column('installed_at'),
        indexes=[BOTS_INDEX],
    )
    create_table(
        'slack_oauth_states',
        id_column(),
        sa.Column('state', sa.String(length=200), nullable=False),
        time_column('expire_at'),
        unique=[('state',)],
        indexes=['expire_at'],
    )
    add_columns('workspaces', time_column('uninstalled_at', nullable=True), time_column('needs_reinstall_at', nullable=True))


def downgrade() -> None:
    drop_columns('workspaces', 'needs_reinstall_at', 'uninstalled_at')
    drop_table('slack_oauth_states', 'expire_at')
    drop_table('slack_bots', BOTS_INDEX)
    drop_table('slack_installations', INSTALLATIONS_INDEX)
