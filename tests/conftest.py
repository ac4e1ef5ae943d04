"""Shared fixtures: a fresh data directory, services over the real keyring, the toy system.

Also the Hypothesis profiles, loaded before any test module is imported (a test's own ``@settings``
inherits what it does not set from the loaded profile, so none may set ``derandomize`` or ``database``):

* ``ci`` (when ``CI`` is set, as ``.ci/run`` runs, or ``HYPOTHESIS_PROFILE=ci``): derandomized — every
  run tries the same examples on any machine — no deadline, and a failure prints its
  ``@reproduce_failure`` blob. Hypothesis makes ``derandomize=True`` imply ``database=None``, so CI
  replays no example database: a failure it finds is kept as an ``@example(...)`` on the test, which
  every run (CI's too) replays, whatever Hypothesis version (its database format is a cache, not kept
  across versions).
* ``dev`` (the default, or ``HYPOTHESIS_PROFILE=dev``; also for long fuzz runs): fresh random examples,
  no deadline, failures saved in ``tests/.hypothesis/`` (not committed) and replayed first by the next
  local run until they pass.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import keyring
import pytest
from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase

from almdesk.sandbox.base import SandboxServer, serve
from almdesk.services import Services
from almdesk.systems.registry import Registry
from tests.toy import ToySandbox, ToySystem

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None, print_blob=True,
                          database=DirectoryBasedExampleDatabase(Path(__file__).parent / ".hypothesis"))
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))

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


@pytest.fixture
def shot(tmp_path: Path) -> Callable[[QWidget, str], Path]:
    """Save ``widget`` (offscreen rendering) as ``<name>.png`` under this test's ``tmp_path`` — or under
    ``$ALMDESK_SHOTS`` when set, to look at them — and return the path."""
    folder = Path(os.environ["ALMDESK_SHOTS"]) if os.environ.get("ALMDESK_SHOTS") else tmp_path / "shots"

    def save(widget: QWidget, name: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        assert widget.grab().save(str(path)), path
        return path

    return save
