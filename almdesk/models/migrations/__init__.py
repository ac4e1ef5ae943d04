"""Alembic migration environment for the almdesk store."""
