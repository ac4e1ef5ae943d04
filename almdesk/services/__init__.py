"""The services the GUI and the CLI share: the composition root's wiring and the jobs above the systems.

``wiring`` builds paths, logging, the store, the keyring and the registry (:class:`Services`);
``actions`` holds the job factories (Test Connection, Gate, Create Defect); ``specs`` the GUI's own job
specs (support bundle, SD Elements hierarchy, workspaces, gate items); ``queries`` and ``tasks`` the
read-only queries the views draw (jobs, events, tasks) and the task import job; ``links`` the Link… call.
The GUI opens no store session and builds no job itself. This package stands on
``systems``, ``net``, ``sync`` and ``jobs``; nothing below imports it.
"""

from almdesk.services.wiring import Services, setup_logging

__all__ = ["Services", "setup_logging"]
