"""Secrets in the operating system's keyring, never in the database.

Keys are ``almdesk`` / ``<connector uid>/<field name>``: the uid survives renames. With no usable
keyring backend the store keeps secrets for this session only and says so (``warning``).

The backend is chosen by keyring itself (environment, ``keyringrc.cfg``, then the viable backend of
highest priority), see :func:`default_backend`.
"""

from __future__ import annotations

import logging
import sys

import keyring
import keyring.backend
import keyring.errors

SERVICE = "almdesk"
log = logging.getLogger(__name__)

_NO_BACKEND = ("fail", "null", "chainer")
_MACOS_API = "keyring.backends.macOS.api"


def default_backend() -> keyring.backend.KeyringBackend:
    """``keyring.get_keyring()``, minus a cost that buys nothing off macOS.

    keyring loads every backend plugin to rank them; its macOS plugin imports ``macOS.api``, which
    calls ``ctypes.util.find_library`` three times — on Linux each runs ``ldconfig``/``gcc``
    subprocesses at start-up. Off macOS that backend is never viable whatever the
    import does (its priority first checks ``platform.system()``), so the import is made to fail
    fast (a ``None`` in ``sys.modules``, which the plugin catches). The chosen backend is the same."""
    if sys.platform == "darwin" or _MACOS_API in sys.modules:
        return keyring.get_keyring()
    sys.modules[_MACOS_API] = None  # type: ignore[assignment]
    try:
        return keyring.get_keyring()
    finally:
        if sys.modules.get(_MACOS_API, 0) is None:
            del sys.modules[_MACOS_API]


class SecretStore:
    """Get/set/delete secrets per connector uid and field name."""

    def __init__(self, backend: keyring.backend.KeyringBackend | None = None) -> None:
        self._backend = backend or default_backend()
        self._memory: dict[str, str] = {}
        self.warning = ""
        name = type(self._backend).__module__.lower() + "." + type(self._backend).__name__.lower()
        if any(part in name for part in _NO_BACKEND) and not self._chainer_has_backends():
            self.warning = ("No system keyring found: secrets are kept for this session only. Install and "
                            "unlock a Secret Service keyring (gnome-keyring or KWallet) to keep them.")
        else:
            try:  # a locked or broken keyring shows up here rather than at the first save
                self._backend.get_password(SERVICE, "__probe__")
            except keyring.errors.KeyringError as exc:
                self.warning = (f"The system keyring cannot be used ({exc}); secrets are kept for this "
                                "session only. Unlock the keyring and restart almdesk.")
        if self.warning:
            log.warning(self.warning)

    def _chainer_has_backends(self) -> bool:
        backends = getattr(self._backend, "backends", None)
        return bool(backends)

    @property
    def persistent(self) -> bool:
        return not self.warning

    @property
    def backend_name(self) -> str:
        if self.warning:
            return "session memory (no keyring)"
        backend = self._backend
        inner = getattr(backend, "backends", None)
        if inner:
            backend = inner[0]
        return str(getattr(backend, "name", type(backend).__name__))

    @staticmethod
    def key(uid: str, field: str) -> str:
        return f"{uid}/{field}"

    def get(self, uid: str, field: str) -> str:
        key = self.key(uid, field)
        if not self.persistent:
            return self._memory.get(key, "")
        return self._backend.get_password(SERVICE, key) or ""

    def set(self, uid: str, field: str, value: str) -> None:
        key = self.key(uid, field)
        if not self.persistent:
            self._memory[key] = value
            return
        self._backend.set_password(SERVICE, key, value)

    def delete(self, uid: str, field: str) -> None:
        key = self.key(uid, field)
        self._memory.pop(key, None)
        if self.persistent:
            try:
                self._backend.delete_password(SERVICE, key)
            except keyring.errors.PasswordDeleteError:
                pass
