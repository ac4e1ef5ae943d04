"""ALM Octane sandbox: a loopback server speaking Octane's REST API with seeded demo data.

``create(seed=0, idle_timeout=…, global_timeout=…, renew_after=…, defects=…, stories=…)`` returns
the WSGI app; start it with :func:`almdesk.sandbox.base.serve`. ``app.sign_ins`` counts sign-ins.
"""

from __future__ import annotations

from almdesk.sandbox.octane.app import OctaneSandbox, create
from almdesk.sandbox.octane.data import ADMIN_USER, API_KEY, NOACCESS_KEY, READONLY_KEY

__all__ = ["ADMIN_USER", "API_KEY", "NOACCESS_KEY", "READONLY_KEY", "OctaneSandbox", "create"]
