"""Project: bound to a server project (SD Elements) — source connector, server project id, whether
unaccepted tasks are taken, and the last refresh with its counts.

Revision ID: 0005_project_source
Revises: 0003_journal_timeout
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_project_source"
down_revision = "0003_journal_timeout"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("project", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_connector_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("source_project", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("include_unaccepted", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("last_refresh", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("refresh_counts", sa.JSON(), nullable=False, server_default="{}"))
        batch_op.create_foreign_key("fk_project_source_connector", "connector", ["source_connector_id"], ["id"],
                                    ondelete="SET NULL")


def downgrade() -> None:
    with op.batch_alter_table("project", schema=None) as batch_op:
        batch_op.drop_constraint("fk_project_source_connector", type_="foreignkey")
        for name in ("refresh_counts", "last_refresh", "include_unaccepted", "source_project", "source_connector_id"):
            batch_op.drop_column(name)
