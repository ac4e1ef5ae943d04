"""Fixtures for the admin tests: services over an inspectable keyring, the toy system, data files.

The keyring here is a plain in-memory backend handed to :class:`SecretStore`, so a test can see
every entry written (and prove that a failed import leaves none behind). Everything else is real:
SQLite store, loopback sandboxes, the CLI's ``main``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring.backend
import pytest

from almdesk.secrets import SecretStore
from almdesk.services import Services
from almdesk.systems.registry import Registry

DATA = Path(__file__).with_name("data")


class DictKeyring(keyring.backend.KeyringBackend):
    """A keyring backend holding entries in a dict (inspectable by tests)."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # keyring's KeyringBackend.__init__ is unannotated
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.entries.pop((service, username), None)


@pytest.fixture
def vault() -> DictKeyring:
    return DictKeyring()


@pytest.fixture
def secret_store(vault: DictKeyring) -> SecretStore:
    store = SecretStore(vault)
    assert store.persistent
    return store


@pytest.fixture
def admin_services(data_dir: Path, registry: Registry, secret_store: SecretStore) -> Iterator[Services]:
    svc = Services.open(data_dir, registry=registry, secrets=secret_store)
    yield svc
    svc.close()


@pytest.fixture
def cli_services(monkeypatch: pytest.MonkeyPatch, registry: Registry, secret_store: SecretStore) -> None:
    """Make the CLI's ``Services.open`` use the test registry (with toy) and the inspectable keyring."""
    original = Services.open

    def open_for_test(cls: type[Services], /, data_dir: str | Path | None = None, **kw: Any) -> Services:
        kw.setdefault("registry", registry)
        kw.setdefault("secrets", secret_store)
        return original(data_dir, **kw)

    monkeypatch.setattr(Services, "open", classmethod(open_for_test))
