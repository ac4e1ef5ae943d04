"""The services the GUI and the CLI share: the composition root's wiring and the jobs above the systems.

``wiring`` builds paths, logging, the store, the keyring and the registry (:class:`Services`);
``actions`` holds the job factories (Test Connection, Gate, Create Defect). This package stands on
``systems``, ``net``, ``sync`` and ``jobs``; nothing below imports it.
"""

from almdesk.services.wiring import Services, setup_logging

__all__ = ["Services", "setup_logging"]
