"""GUI view tests (pytest-qt, offscreen)."""
