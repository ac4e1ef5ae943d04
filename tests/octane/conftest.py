"""Fixtures for the Octane tests: sandbox servers on loopback, connector/connection settings, contexts."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from almdesk.base.fields import parse_fields
from almdesk.base.settings import ConnectionSettings, ConnectorSettings, NetworkSettings
from almdesk.jobs.context import JobContext
from almdesk.net.session import HttpFactory
from almdesk.sandbox.base import SandboxServer, serve
from almdesk.sandbox.octane import OctaneSandbox, create
from almdesk.systems.common import COMMON_CONNECTION_FIELDS
from almdesk.systems.octane import SYSTEM

SMALL = {"defects": 90, "stories": 15}


@pytest.fixture(scope="session")
def shared_server() -> Iterator[SandboxServer]:
    """A read-mostly sandbox shared by tests that do not care about other tests' writes."""
    server = serve(create(seed=7, **SMALL))
    yield server
    stop_later(server)


@pytest.fixture
def make_server() -> Iterator[Callable[..., SandboxServer]]:
    """Start fresh sandboxes (options as for ``create``); all are stopped after the test."""
    started: list[SandboxServer] = []

    def start(**options: Any) -> SandboxServer:
        merged = {**SMALL, **options}
        server = serve(create(seed=int(merged.pop("seed", 3)), **merged))
        started.append(server)
        return server

    yield start
    for server in started:
        stop_later(server)


def stop_later(server: SandboxServer) -> None:
    """Stop in the background: werkzeug's shutdown waits out a 0.5 s poll per server."""
    threading.Thread(target=server.stop, name="stop-octane-sandbox", daemon=True).start()


@pytest.fixture
def server(make_server: Callable[..., SandboxServer]) -> SandboxServer:
    return make_server()


def app_of(server: SandboxServer) -> OctaneSandbox:
    app = server.app
    assert isinstance(app, OctaneSandbox)
    return app


def connector_for(server: SandboxServer, *, secret: str | None = None, **params: Any) -> ConnectorSettings:
    info = server.describe()
    raw = {**info["params"], **params}
    parsed = SYSTEM.check_connector(parse_fields(SYSTEM.connector_fields, raw))
    secrets = dict(info["secrets"])
    if secret is not None:
        secrets["client_secret"] = secret
    return ConnectorSettings(name="octane-test", system="octane", params=parsed, secrets=secrets,
                             network=NetworkSettings(timeout=10))


def connection_for(connector: ConnectorSettings, server: SandboxServer | None = None,
                   **params: Any) -> ConnectionSettings:
    raw = dict(server.describe()["connection_params"]) if server is not None else {}
    raw.update(params)
    parsed = parse_fields((*COMMON_CONNECTION_FIELDS, *SYSTEM.connection_fields), raw)
    return ConnectionSettings(alias="octane-conn", connector=connector, params=parsed, project="demo")


@pytest.fixture
def http() -> HttpFactory:
    return HttpFactory(NetworkSettings(timeout=10), retries=2, backoff=0.05)


@pytest.fixture
def ctx() -> JobContext:
    return JobContext()
