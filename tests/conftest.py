"""Shared fixtures: a fresh data directory, services over the real keyring, the toy system."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest

from almdesk.sandbox.base import SandboxServer, serve
from almdesk.services import Services
from almdesk.systems.registry import Registry
from tests.toy import ToySandbox, ToySystem

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Resolve the OS keyring now, before any test module defines a KeyringBackend subclass (keyring
# discovers subclasses, and a test double must never become the backend of other tests).
keyring.get_keyring()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def registry() -> Registry:
    return Registry.default(extra=[ToySystem()])


@pytest.fixture
def services(data_dir: Path, registry: Registry) -> Iterator[Services]:
    svc = Services.open(data_dir, registry=registry)
    yield svc
    svc.close()


@pytest.fixture
def toy_server() -> Iterator[SandboxServer]:
    server = serve(ToySandbox())
    yield server
    server.stop()
