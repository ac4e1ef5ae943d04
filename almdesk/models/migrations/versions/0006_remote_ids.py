"""Remote admin of an SD Elements server: ``remote_item`` (a server ALM connector or connection as
last pulled, its server id and the local item it mirrors) and ``job_report`` (a desktop job's result
queued for the server's ALM job history until it is sent once).

Revision ID: 0006_remote_ids
Revises: 0005_project_source
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_remote_ids"
down_revision = "0005_project_source"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "remote_item",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("source_id", sa.Integer(), sa.ForeignKey("connector.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("server_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("system_id", sa.String(60), nullable=False),
        sa.Column("connector_id", sa.Integer(), sa.ForeignKey("connector.id", ondelete="SET NULL"), nullable=True),
        sa.Column("connection_id", sa.Integer(), sa.ForeignKey("connection.id", ondelete="SET NULL"),
                  nullable=True),
        sa.Column("mirrored", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("params", sa.JSON(), nullable=False, server_default="{}"),
        sa.Column("secret_keys", sa.JSON(), nullable=False, server_default="{}"),
        sa.Column("server", sa.JSON(), nullable=False, server_default="{}"),
        sa.Column("read_only", sa.Text(), nullable=False, server_default=""),
        sa.Column("pulled", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("source_id", "kind", "server_id", name="uq_remote_item_server"),
    )
    op.create_table(
        "job_report",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("source_id", sa.Integer(), sa.ForeignKey("connector.id", ondelete="CASCADE"), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False, unique=True),
        sa.Column("server_connection", sa.Integer(), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("result_message", sa.Text(), nullable=False),
        sa.Column("state", sa.String(10), nullable=False, server_default="queued"),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text(), nullable=False, server_default=""),
        sa.Column("server_job", sa.Integer(), nullable=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("job_report")
    op.drop_table("remote_item")
