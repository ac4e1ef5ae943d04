"""GitHub (GitHub.com and Enterprise Server) issues: fields, client, Test Connection, issue, gate, sync.

``SYSTEM`` is the :class:`~almdesk.systems.base.System` the registry loads.
"""

from __future__ import annotations

from almdesk.systems.github.system import GitHubSystem

SYSTEM = GitHubSystem()

__all__ = ["SYSTEM", "GitHubSystem"]
