"""Project: bound to a server project (SD Elements) — source connector, server project id, whether
unaccepted tasks are taken, and the last refresh with its counts; ``source_task`` (a bound task's
server id and last server status) and ``source_reference`` (task references recorded on the server).

Revision ID: 0005_project_source
Revises: 0004_link_state
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_project_source"
down_revision = "0004_link_state"
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
    op.create_table(
        "source_task",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("task_pk", sa.Integer(), sa.ForeignKey("task.id", ondelete="CASCADE"), nullable=False, unique=True),
        sa.Column("server_id", sa.String(60), nullable=False),
        sa.Column("server_status", sa.String(8), nullable=False),
        sa.Column("artifact_proxy", sa.Text(), nullable=False),
        sa.Column("sent_status", sa.String(8), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "source_reference",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("task_pk", sa.Integer(), sa.ForeignKey("task.id", ondelete="CASCADE"), nullable=False),
        sa.Column("connection_id", sa.Integer(), sa.ForeignKey("connection.id", ondelete="CASCADE"), nullable=False),
        sa.Column("server_connection", sa.Integer(), nullable=False),
        sa.Column("server_ref_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(200), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("link", sa.Text(), nullable=False),
        sa.UniqueConstraint("task_pk", "connection_id"),
    )


def downgrade() -> None:
    op.drop_table("source_reference")
    op.drop_table("source_task")
    with op.batch_alter_table("project", schema=None) as batch_op:
        batch_op.drop_constraint("fk_project_source_connector", type_="foreignkey")
        for name in ("refresh_counts", "last_refresh", "include_unaccepted", "source_project", "source_connector_id"):
            batch_op.drop_column(name)
