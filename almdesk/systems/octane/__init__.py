"""ALM Octane support: Location parsing, the REST client, Test Connection, Create Defect, Gate and sync.

``SYSTEM`` is the :class:`~almdesk.systems.octane.system.OctaneSystem` the registry loads.
"""

from __future__ import annotations

from almdesk.systems.octane.location import parse_location
from almdesk.systems.octane.system import OctaneSystem

SYSTEM = OctaneSystem()

__all__ = ["SYSTEM", "OctaneSystem", "parse_location"]
