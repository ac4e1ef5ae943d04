"""Hypothesis fuzzing: Octane Locations and URL fields, task import files, and malformed server answers."""
