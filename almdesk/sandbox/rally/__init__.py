"""Rally (Broadcom Agile Central) sandbox: WSAPI v2.0 on loopback with seeded demo data.

``create(seed, items=…, strict_rate_limits=…, latency=…)`` builds the app (``latency`` seconds are
waited before every answer, see :class:`~almdesk.sandbox.base.Latency`); other keyword options meant
for other systems' sandboxes are ignored.
"""

from __future__ import annotations

from typing import Any

from almdesk.sandbox.rally.app import RallyApp


def create(seed: int = 0, **options: Any) -> RallyApp:
    known = {k: options[k] for k in ("items", "strict_rate_limits", "latency") if k in options}
    return RallyApp(seed=seed, **known)


__all__ = ["RallyApp", "create"]
