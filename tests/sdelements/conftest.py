"""SD Elements fixtures: a seeded sandbox on loopback per module, its describe(), a bare API client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from almdesk.sandbox.base import SandboxServer, serve
from almdesk.sandbox.sdelements import SdeApp, create


@pytest.fixture(scope="module")
def sde_app() -> SdeApp:
    return create(seed=3)


@pytest.fixture(scope="module")
def sde_server(sde_app: SdeApp) -> Iterator[SandboxServer]:
    server = serve(sde_app)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def sde_desc(sde_server: SandboxServer) -> dict[str, Any]:
    return sde_server.describe()


class Api:
    """A bare requests client over ``/api/v2/`` (the system's own client is tested separately)."""

    def __init__(self, url: str, token: str) -> None:
        self.base = url + "/api/v2/"
        self.session = requests.Session()
        self.session.headers.update({"Authorization": f"Token {token}", "Accept": "application/json"})

    def __call__(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        url = path if path.startswith("http") else self.base + path
        return self.session.request(method, url, timeout=10, **kwargs)

    def get(self, path: str, **params: Any) -> Any:
        response = self("GET", path, params=params)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def api(sde_server: SandboxServer, sde_desc: dict[str, Any]) -> Iterator[Api]:
    client = Api(sde_server.url, sde_desc["secrets"]["api_token"])
    yield client
    client.session.close()
