"""Link: its state, ``linked`` or ``detached`` (unlinked by the user: syncs leave the task alone).

Revision ID: 0004_link_state
Revises: 0003_journal_timeout
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_link_state"
down_revision = "0003_journal_timeout"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("link", schema=None) as batch_op:
        batch_op.add_column(sa.Column("state", sa.String(length=10), nullable=False, server_default="linked"))


def downgrade() -> None:
    with op.batch_alter_table("link", schema=None) as batch_op:
        batch_op.drop_column("state")
