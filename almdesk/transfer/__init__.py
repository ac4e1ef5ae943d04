"""Import and export of connectors and connections in the SD Elements ALM API JSON shapes (seed 002).

Export writes ``{"results": [connections…], "connectors": [connectors…]}`` with no secret values.
Import accepts that, a bare connectors list (``GET /api/v2/connectors/alm/``), a bare connections
list (``GET /api/v2/connections/alm/``, where ``connector`` is an id) or one object of either kind.
sdetools parameter names are mapped to each system's fields (each system's declared ``sde_map``); secret values in
the file are never stored: the secret fields become ``missing_secrets`` to ask the user for.

:func:`plan_import` validates everything and writes nothing; :func:`apply_import` writes all or
nothing (it removes the rows and keyring entries it wrote when a later write fails).
"""

from almdesk.transfer.apply import apply_import
from almdesk.transfer.export import EXPORT_FORMAT, export_config
from almdesk.transfer.plan import plan_import
from almdesk.transfer.reading import ImportPlan, PlannedConnection, PlannedConnector

__all__ = ["EXPORT_FORMAT", "ImportPlan", "PlannedConnection", "PlannedConnector",
           "apply_import", "export_config", "plan_import"]
