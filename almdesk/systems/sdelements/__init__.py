"""SD Elements (API v2) as the task source: fields, client, Test Connection, task pull and write-back.

``SYSTEM`` is the system object the registry loads; its ``capabilities`` say it is a task source,
not an ALM target.
"""

from __future__ import annotations

from almdesk.systems.sdelements.system import SdeSystem

SYSTEM = SdeSystem()

__all__ = ["SYSTEM", "SdeSystem"]
