"""SD Elements sandbox: API v2 on loopback with seeded business units, projects, tasks and ALM
connections (the task source's side of a sync).

``create(seed, tasks=…)`` builds the app; keyword options meant for other systems' sandboxes are
ignored.
"""

from __future__ import annotations

from typing import Any

from almdesk.sandbox.sdelements.app import SdeApp


def create(seed: int = 0, **options: Any) -> SdeApp:
    known = {k: options[k] for k in ("tasks", "clock") if k in options}
    return SdeApp(seed=seed, **known)


__all__ = ["SdeApp", "create"]
