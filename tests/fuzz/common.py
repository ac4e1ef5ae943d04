"""Hypothesis settings for the fuzzers: reproducible in CI, bigger on demand.

``ALMDESK_FUZZ_EXAMPLES`` multiplies every fuzzer's example count (e.g. ``ALMDESK_FUZZ_EXAMPLES=20
HYPOTHESIS_PROFILE=dev`` for a long run of fresh examples). Randomness and the example database follow
the profile of ``tests/conftest.py``: derandomized in CI, so a CI failure reproduces on any machine.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

SCALE = max(1.0, float(os.environ.get("ALMDESK_FUZZ_EXAMPLES", "1") or 1))


def fuzz_settings(examples: int, **kw: object) -> settings:
    """Settings for one fuzzer: ``examples`` (scaled), no deadline, the rest from the loaded profile."""
    return settings(max_examples=int(examples * SCALE), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                           HealthCheck.data_too_large], **kw)  # type: ignore[arg-type]
