"""Linking a task to an existing ALM item, as the Links page does it: :func:`link_call` reads the
connection's settings now and returns the call that looks the item up and records the link (network
work, for a worker thread; it raises UserFacingError). Listing and unlinking are the core's own
``sync.link_admin`` functions over the store.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from almdesk.sync.link_admin import LinkView, link_task

if TYPE_CHECKING:
    from almdesk.services.wiring import Services


def link_call(services: Services, connection_id: int, task_id: str, item_text: str) -> Callable[[], LinkView]:
    """The call linking ``task_id`` of connection ``connection_id`` to the item ``item_text`` (key, number, URL)."""
    settings = services.config.connection_settings(connection_id)
    system = services.registry.get(settings.connector.system)
    http = services.http_for(settings.connector)
    store = services.store
    return lambda: link_task(store, system, settings, http, task_id, item_text)
