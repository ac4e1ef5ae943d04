"""Fixtures for the Jira tests: sandboxes in both modes over loopback, settings built from describe()."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from almdesk.base.fields import parse_fields
from almdesk.base.settings import ConnectionSettings, ConnectorSettings
from almdesk.jobs.context import JobContext
from almdesk.net.session import HttpFactory
from almdesk.sandbox.base import SandboxServer, serve
from almdesk.sandbox.jira import JiraSandbox, create
from almdesk.systems.common import COMMON_CONNECTION_FIELDS
from almdesk.systems.jira import SYSTEM

SMALL = 12  # demo issues in DEMO for tests (the app's demo uses 150)
Stopper = Callable[[SandboxServer], None]


def start(mode: str, **options: Any) -> SandboxServer:
    options.setdefault("issues", SMALL)
    return serve(create(seed=7, mode=mode, **options))


@pytest.fixture(scope="session")
def stopper() -> Iterator[Stopper]:
    """Stops servers in the background (werkzeug's shutdown waits for its 0.5 s poll); joins at the end."""
    threads: list[threading.Thread] = []

    def stop(server: SandboxServer) -> None:
        thread = threading.Thread(target=server.stop, daemon=True)
        thread.start()
        threads.append(thread)

    yield stop
    for thread in threads:
        thread.join(timeout=5)


@pytest.fixture(params=["cloud", "dc"])
def jira(request: pytest.FixtureRequest, stopper: Stopper) -> Iterator[SandboxServer]:
    """A fresh sandbox, once per mode."""
    server = start(request.param)
    yield server
    stopper(server)


@pytest.fixture
def cloud(stopper: Stopper) -> Iterator[SandboxServer]:
    server = start("cloud")
    yield server
    stopper(server)


@pytest.fixture
def dc(stopper: Stopper) -> Iterator[SandboxServer]:
    server = start("dc")
    yield server
    stopper(server)


@pytest.fixture
def sandbox_factory(stopper: Stopper) -> Iterator[Callable[..., SandboxServer]]:
    """Make sandboxes with options (``sandbox_factory("dc", max_results=5)``)."""
    servers: list[SandboxServer] = []

    def make(mode: str, **options: Any) -> SandboxServer:
        server = start(mode, **options)
        servers.append(server)
        return server

    yield make
    for server in servers:
        stopper(server)


def app_of(server: SandboxServer) -> JiraSandbox:
    app = server.app
    assert isinstance(app, JiraSandbox)
    return app


def connector_for(server: SandboxServer, *, secrets: dict[str, str] | None = None, **params: Any) -> ConnectorSettings:
    """The connector describe() advertises, with overrides, checked like the app checks it."""
    info = server.describe()
    raw = {**info["params"], **params}
    parsed = SYSTEM.check_connector(parse_fields(SYSTEM.connector_fields, raw))
    return ConnectorSettings("jira-test", "jira", parsed, dict(secrets or info["secrets"]))


def connection_for(connector: ConnectorSettings, server: SandboxServer, **params: Any) -> ConnectionSettings:
    info = server.describe()
    raw = {**info["connection_params"], **params}
    fields = (*SYSTEM.connection_fields, *COMMON_CONNECTION_FIELDS)
    return ConnectionSettings("jira-conn", connector, parse_fields(fields, raw), project="demo")


@pytest.fixture
def http() -> HttpFactory:
    return HttpFactory(retries=2, backoff=0.01)


@pytest.fixture
def ctx() -> JobContext:
    return JobContext()
