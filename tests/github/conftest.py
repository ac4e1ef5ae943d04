"""Fixtures of the GitHub tests: a small seeded sandbox served on loopback, and what describe() says."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from almdesk.sandbox.base import SandboxServer, serve
from almdesk.sandbox.github import GitHubSandbox, create


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
