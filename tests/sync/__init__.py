"""Sync engine tests."""
