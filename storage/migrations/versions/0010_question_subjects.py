"""questions.subject: every question is an item about the provider, the client or the relationship

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 06:00:00.000000

A perception gap compares the two sides' ratings of the same thing, so each question now names its subject
(issue 12, item 1). Built-in questions are backfilled by key. Two built-in questions asked each side about a
different party ("value-improvement": the client about the provider, the provider about the client;
"nps-recommend": each side about the other): they get subject NULL and are made inactive, so their answers are
kept and shown per side but never compared between the sides or across weeks; the bank replaces them with new
keys. A lead's own question was always worded "mirrored" (both sides about the same thing), so it is about the
relationship; one marked "other_side" cannot be told apart and stays NULL (not comparable).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The built-in items' subjects, by key (bot.services.question_bank.BANK at the time of this migration).
BANK_SUBJECTS = {
    'trust-honest-news': 'provider',
    'trust-keeps-word': 'provider',
    'trust-benefit-of-doubt': 'client',
    'communication-right-people': 'relationship',
    'communication-clear-updates': 'provider',
    'communication-changes-shared': 'client',
    'responsiveness-answers': 'provider',
    'responsiveness-decisions': 'client',
    'responsiveness-access': 'client',
    'value-outcomes': 'provider',
    'value-quality': 'provider',
    'alignment-priorities': 'provider',
    'alignment-shared-success': 'relationship',
    'alignment-context': 'client',
    'expectations-explicit': 'relationship',
    'expectations-no-surprises': 'provider',
    'expectations-requests-clear': 'client',
    'collaboration-one-team': 'relationship',
    'collaboration-problem-solving': 'relationship',
    'collaboration-knowledge': 'client',
    'accountability-ownership': 'provider',
    'accountability-actions-done': 'relationship',
    'accountability-own-part': 'client',
}
#: Built-in items whose two wordings were about different parties: not comparable, retired.
NOT_COMPARABLE = ('value-improvement', 'nps-recommend')


def upgrade() -> None:
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('subject', sa.String(length=12), nullable=True))
        batch_op.create_check_constraint('subject', "subject IN ('provider', 'client', 'relationship')")

    questions = sa.table(
        'questions',
        sa.column('partnership_id', sa.Integer()),
        sa.column('key', sa.String()),
        sa.column('perspective', sa.String()),
        sa.column('subject', sa.String()),
        sa.column('active', sa.Boolean()),
    )
    bank = questions.c.partnership_id.is_(None)
    for key, subject in BANK_SUBJECTS.items():
        op.execute(questions.update().where(bank, questions.c.key == key).values(subject=subject))
    op.execute(
        questions.update().where(bank, questions.c.key.in_(NOT_COMPARABLE)).values(subject=None, active=False)
    )
    op.execute(
        questions.update()
        .where(questions.c.partnership_id.is_not(None), questions.c.perspective == 'mirrored')
        .values(subject='relationship')
    )


def downgrade() -> None:
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.drop_constraint('subject', type_='check')
        batch_op.drop_column('subject')
