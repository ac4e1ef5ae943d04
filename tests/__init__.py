"""almdesk tests."""
