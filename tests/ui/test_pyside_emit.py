"""Detects the PySide6 refcount bug that aborts the app after many signal emits (see conftest)."""

from __future__ import annotations

import sys

from PySide6 import __version__ as pyside_version

from tests.ui.conftest import emit_drops_true_reference


def test_signal_emit_keeps_true_alive() -> None:
    assert not emit_drops_true_reference(), (
        f"PySide6 {pyside_version} on Python {sys.version.split()[0]}: every SignalInstance.emit() drops a "
        "reference to True; a long job aborts the GUI (bool_dealloc). pyproject.toml excludes 6.12.0.")
