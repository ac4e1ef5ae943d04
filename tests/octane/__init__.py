"""Tests of the ALM Octane system and its sandbox."""
