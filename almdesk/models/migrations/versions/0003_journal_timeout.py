"""Journal: the connector's timeout of an unknown-fate create (the engine waits 2x it before re-creating).

Revision ID: 0003_journal_timeout
Revises: 0002_journal
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_journal_timeout"
down_revision = "0002_journal"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("journal", schema=None) as batch_op:
        batch_op.add_column(sa.Column("timeout", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("journal", schema=None) as batch_op:
        batch_op.drop_column("timeout")
