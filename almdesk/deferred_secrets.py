"""The GUI's secret store while it is being opened: the keyring is probed after the window is usable.

Opening the OS keyring costs the GUI's start ~0.2 s (importing ``secretstorage`` and its crypto, a D-Bus
round trip to the Secret Service; more when it has to be unlocked). Nothing on the first screen needs a
secret, so :func:`almdesk.app.prepare` hands :class:`DeferredSecrets` to ``Services.open`` and the
start-up worker calls :meth:`DeferredSecrets.open` once the window is usable. A use before that (any
attribute of the store) opens it there and then; an error of the opening is raised at every use.
No Qt; thread-safe (a lock around the one opening).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from almdesk.secrets import SecretStore


class DeferredSecrets:
    """Stands for the :class:`SecretStore` that :meth:`bind`'s ``make`` opens; every attribute is the real store's.

    The store is opened once: by :meth:`open` (the start-up worker, after the window is usable) or by the first
    use, in the using thread, if that comes first (it never waits for the worker)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._make: Callable[[], SecretStore] | None = None
        self._store: SecretStore | None = None
        self._error: BaseException | None = None

    @property
    def resolved(self) -> bool:
        return self._ready.is_set()

    def bind(self, make: Callable[[], SecretStore]) -> None:
        """How to open the real store (before the services are handed over)."""
        self._make = make

    def open(self) -> None:
        """Open the real store now, unless it is open (or being opened: then wait for that)."""
        with self._lock:
            if self._ready.is_set():
                return
            if self._make is None:
                raise RuntimeError("DeferredSecrets used before bind()")
            try:
                self._store = self._make()
            except BaseException as exc:  # raised again at every use
                self._error = exc
            finally:
                self._ready.set()

    def wait(self) -> SecretStore:
        if not self._ready.is_set():
            self.open()
        if self._error is not None:
            raise self._error
        assert self._store is not None
        return self._store

    def __getattr__(self, name: str) -> Any:  # only for what this class does not define: the store's API
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.wait(), name)
