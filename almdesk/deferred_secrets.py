"""The GUI's secret store while it is being opened: the keyring is probed after the window is usable.

Opening the OS keyring costs the GUI's start ~0.2 s (importing ``secretstorage`` and its crypto, a D-Bus
round trip to the Secret Service; more when it has to be unlocked). Nothing on the first screen needs a
secret, so :func:`almdesk.app.prepare` hands :class:`DeferredSecrets` to ``Services.open`` and the
start-up worker calls :meth:`DeferredSecrets.resolve` once it has handed the services over. Any use
before that (an attribute of the store) waits for it; an error of the opening is raised at that use.
No Qt; thread-safe (one :class:`threading.Event`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from almdesk.secrets import SecretStore

RESOLVE_TIMEOUT = 120.0  # seconds a use waits for the keyring (a desktop may show an unlock prompt)


class DeferredSecrets:
    """Stands for the :class:`SecretStore` that :meth:`resolve` makes; every attribute is the real store's."""

    def __init__(self) -> None:
        self._ready = threading.Event()
        self._store: SecretStore | None = None
        self._error: BaseException | None = None

    @property
    def resolved(self) -> bool:
        return self._ready.is_set()

    def resolve(self, make: Callable[[], SecretStore]) -> None:
        """Open the real store (``make()``); once, from the start-up worker."""
        if self._ready.is_set():
            return
        try:
            self._store = make()
        except BaseException as exc:  # raised again where the store is first used
            self._error = exc
        finally:
            self._ready.set()

    def wait(self, timeout: float = RESOLVE_TIMEOUT) -> SecretStore:
        if not self._ready.wait(timeout):
            raise TimeoutError("the keyring did not answer")
        if self._error is not None:
            raise self._error
        assert self._store is not None
        return self._store

    def __getattr__(self, name: str) -> Any:  # only for what this class does not define: the store's API
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.wait(), name)
