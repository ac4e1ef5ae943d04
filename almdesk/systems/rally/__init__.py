"""Rally (Broadcom Agile Central) over WSAPI v2.0: fields, client, Test Connection, defects, gate, sync."""

from __future__ import annotations

from almdesk.systems.rally.system import RallySystem

SYSTEM = RallySystem()

__all__ = ["SYSTEM", "RallySystem"]
