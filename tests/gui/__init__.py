"""GUI foundation tests (pytest-qt, offscreen)."""
