"""Fixtures of the GitHub tests: a small seeded sandbox served on loopback, and what describe() says."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from almdesk.base.fields import parse_fields
from almdesk.base.settings import ConnectionSettings, ConnectorSettings, NetworkSettings
from almdesk.jobs.context import JobContext
from almdesk.net.session import HttpFactory
from almdesk.sandbox.base import SandboxServer, serve
from almdesk.sandbox.github import GitHubSandbox, create
from almdesk.systems.common import COMMON_CONNECTION_FIELDS
from almdesk.systems.github import SYSTEM


def stop_soon(server: SandboxServer) -> None:
    """Stop a server without waiting for its half-second shutdown poll (keeps the suite fast)."""
    threading.Thread(target=server.stop, name="stop-sandbox", daemon=True).start()


@pytest.fixture
def gh_app() -> GitHubSandbox:
    return create(seed=3, issues=40)


@pytest.fixture
def gh_server(gh_app: GitHubSandbox) -> Iterator[SandboxServer]:
    server = serve(gh_app)
    yield server
    stop_soon(server)


@pytest.fixture
def gh_info(gh_server: SandboxServer) -> dict[str, Any]:
    return gh_server.describe()


@pytest.fixture
def gh_api(gh_info: dict[str, Any]) -> str:
    url: str = gh_info["params"]["url"]
    return url


@pytest.fixture
def auth(gh_app: GitHubSandbox) -> dict[str, str]:
    return {"Authorization": f"token {gh_app.tokens['admin']}"}


def make_connector(info: dict[str, Any], *, token: str | None = None, **params: Any) -> ConnectorSettings:
    """A connector from describe() (writes not paced unless asked), as the app would build it."""
    raw = {**info["params"], "github_write_pace_ms": 0, **params}
    parsed = SYSTEM.check_connector(parse_fields(SYSTEM.connector_fields, raw))
    secret = info["secrets"]["alm_api_token"] if token is None else token
    return ConnectorSettings("gh", "github", parsed, {"alm_api_token": secret} if secret else {})


def make_connection(connector: ConnectorSettings, info: dict[str, Any], **params: Any) -> ConnectionSettings:
    fields = (*SYSTEM.connection_fields, *COMMON_CONNECTION_FIELDS)
    parsed = parse_fields(fields, {**info["connection_params"], **params})
    return ConnectionSettings("gh-conn", connector, parsed, project="Demo")


@pytest.fixture
def connector(gh_info: dict[str, Any]) -> ConnectorSettings:
    return make_connector(gh_info)


@pytest.fixture
def connection(connector: ConnectorSettings, gh_info: dict[str, Any]) -> ConnectionSettings:
    return make_connection(connector, gh_info)


@pytest.fixture
def http() -> HttpFactory:
    return HttpFactory(NetworkSettings(timeout=10))


@pytest.fixture
def ctx() -> JobContext:
    return JobContext()
