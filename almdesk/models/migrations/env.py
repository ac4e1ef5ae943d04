"""Alembic environment: runs on the connection handed over by :class:`almdesk.models.store.Store`."""

from __future__ import annotations

from alembic import context

from almdesk.models.tables import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True,
                  compare_type=True)
with context.begin_transaction():
    context.run_migrations()
