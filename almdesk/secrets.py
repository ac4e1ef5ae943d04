"""Secrets in the operating system's keyring, never in the database.

Keys are ``almdesk`` / ``<connector uid>/<field name>``: the uid survives renames. With no usable
keyring backend the store keeps secrets for this session only and says so (``warning``).

The backend is chosen by keyring itself (environment, ``keyringrc.cfg``, then the viable backend of
highest priority), see :func:`default_backend`.

Headless (CI, cron): with ``ALMDESK_SECRETS=env``, or when no keyring is usable, :func:`open_secret_store`
gives an :class:`EnvSecretStore` instead: secrets are read from ``ALMDESK_SECRET_<CONNECTOR>_<FIELD>``
environment variables (:func:`env_var`) and never written anywhere.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Callable, Mapping

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

    def by_name(self, connector: str, field: str) -> str:
        """A secret known by the connector's name alone, before the connector exists: none in a keyring
        (an :class:`EnvSecretStore` has the environment's)."""
        return ""

    def missing_hint(self, connector: str, field: str, label: str) -> str:
        """What to do when the required secret ``field`` of ``connector`` is not given."""
        return f"Enter the {label}."

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


SECRETS_MODE = "ALMDESK_SECRETS"  # "env": secrets from environment variables even when a keyring works
ENV_PREFIX = "ALMDESK_SECRET_"


def env_var(connector: str, field: str) -> str:
    """The environment variable holding ``field`` of the connector named ``connector``:
    ``ALMDESK_SECRET_<CONNECTOR>_<FIELD>``, both upper-cased, each run of characters other than A–Z
    and 0–9 replaced by one ``_``, a ``_`` at either end of a part dropped ("Jira demo", "api_token" →
    ``ALMDESK_SECRET_JIRA_DEMO_API_TOKEN``; "Jira (EU)" → ``ALMDESK_SECRET_JIRA_EU_…``)."""
    def part(text: str) -> str:
        return re.sub(r"[^A-Z0-9]+", "_", text.upper()).strip("_")

    return f"{ENV_PREFIX}{part(connector)}_{part(field)}"


class EnvSecretStore(SecretStore):
    """Secrets from environment variables (:func:`env_var`), for headless runs (CI, cron, containers).

    Read only: a value is never written anywhere. ``set`` keeps a value the environment does not
    already hold in this process's memory (the GUI without a keyring), so it is gone at exit — which is
    why :attr:`persistent` is False and the CLI refuses ``--secret`` here. ``names`` maps a connector's
    uid to its current name (the variable follows renames of the connector, not its uid).
    """

    def __init__(self, names: Callable[[str], str | None], environ: Mapping[str, str] | None = None,
                 reason: str = "") -> None:
        self._names = names
        self._environ = os.environ if environ is None else environ
        self._memory: dict[str, str] = {}
        self.reason = reason
        self.warning = (f"{reason + ': ' if reason else ''}secrets come from the environment variables "
                        f"{ENV_PREFIX}<CONNECTOR>_<FIELD> and are never stored.")
        log.info(self.warning)

    @property
    def backend_name(self) -> str:
        return f"environment variables ({ENV_PREFIX}<CONNECTOR>_<FIELD>)"

    def by_name(self, connector: str, field: str) -> str:
        return self._environ.get(env_var(connector, field), "")

    def missing_hint(self, connector: str, field: str, label: str) -> str:
        return f"Set the environment variable {env_var(connector, field)} to the {label}."

    def get(self, uid: str, field: str) -> str:
        name = self._names(uid)
        value = self.by_name(name, field) if name else ""
        return value or self._memory.get(self.key(uid, field), "")

    def set(self, uid: str, field: str, value: str) -> None:
        name = self._names(uid)
        if name and self.by_name(name, field) == value:
            return  # the environment holds it already
        self._memory[self.key(uid, field)] = value

    def delete(self, uid: str, field: str) -> None:
        self._memory.pop(self.key(uid, field), None)


def open_secret_store(names: Callable[[str], str | None], environ: Mapping[str, str] | None = None,
                      backend: keyring.backend.KeyringBackend | None = None) -> SecretStore:
    """The keyring's :class:`SecretStore`; an :class:`EnvSecretStore` with ``ALMDESK_SECRETS=env`` or
    when no keyring is usable. Any other value of ``ALMDESK_SECRETS`` is a :class:`ConfigError`."""
    from almdesk.errors import ConfigError

    env = os.environ if environ is None else environ
    mode = env.get(SECRETS_MODE, "").strip().lower()
    if mode == "env":
        return EnvSecretStore(names, env, reason=f"{SECRETS_MODE}=env")
    if mode not in ("", "keyring"):
        raise ConfigError(f"{SECRETS_MODE}={env[SECRETS_MODE]!r} is not a secrets mode.",
                          f"Set {SECRETS_MODE}=env (environment variables) or keyring, or unset it.",
                          field=SECRETS_MODE)
    store = SecretStore(backend)
    if store.persistent:
        return store
    return EnvSecretStore(names, env, reason="No usable keyring")
