"""Fixtures for the sync engine's tests: the toy ALM and, once they exist, every real system's sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from almdesk.systems.registry import Registry
from tests.sync.harness import SyncEnv, Target, make_registry, real_systems

TARGETS = ["toyalm", *real_systems()]


@pytest.fixture(scope="session")
def sync_registry() -> Registry:
    return make_registry()


@pytest.fixture
def toy(tmp_path: Path, sync_registry: Registry) -> Iterator[SyncEnv]:
    """A SyncEnv over a fresh toy ALM."""
    target = Target.start("toyalm", sync_registry)
    yield SyncEnv(tmp_path, target, sync_registry)
    target.stop()


@pytest.fixture(params=TARGETS)
def env(request: pytest.FixtureRequest, tmp_path: Path, sync_registry: Registry) -> Iterator[SyncEnv]:
    """A SyncEnv over a fresh sandbox of each system (the toy ALM and every real one available)."""
    target = Target.start(request.param, sync_registry)
    yield SyncEnv(tmp_path, target, sync_registry)
    target.stop()
