"""Jira support (Cloud and Data Center): fields, REST client, Test Connection, Create Defect, Gate and sync.

``SYSTEM`` is the :class:`~almdesk.systems.jira.system.JiraSystem` the registry loads.
"""

from __future__ import annotations

from almdesk.systems.jira.system import JiraSystem

SYSTEM = JiraSystem()

__all__ = ["SYSTEM", "JiraSystem"]
