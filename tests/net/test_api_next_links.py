"""GitHub's and SD Elements' clients page through the shared API client: a next-page link on their own
server is followed, one to another origin is refused by the one origin rule (no per-system check)
and the other server receives nothing, neither the request nor the token. Loopback servers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from werkzeug import Request, Response

from almdesk.base.settings import ConnectorSettings
from almdesk.net.session import CrossOriginError, HttpFactory
from almdesk.sandbox.base import SandboxApp, SandboxServer, json_response, serve
from almdesk.systems.github.client import GitHubClient
from almdesk.systems.sdelements.client import SdeClient


class Pages(SandboxApp):
    """Two pages in GitHub's shape (``/issues``, ``Link``) and in DRF's (``/api/v2/things/``, ``next``);
    the second page's address is on ``second`` (this server unless told), and it records what it gets."""

    system = "pages"

    def __init__(self) -> None:
        super().__init__()
        self.second = ""
        self.seen: list[tuple[str, str, str]] = []  # (path, query, Authorization)

    def describe(self, base_url: str) -> dict[str, object]:
        return {"system": self.system, "url": base_url, "params": {}, "secrets": {}, "connection_params": {}}

    def dispatch(self, request: Request) -> Response:
        self.seen.append((request.path, request.query_string.decode(), request.headers.get("Authorization", "")))
        where = self.second or self.base_url
        if request.path == "/issues":
            if request.args.get("page") == "2":
                return json_response([{"number": 2}])
            return json_response([{"number": 1}], headers={"Link": f'<{where}/issues?page=2>; rel="next"'})
        if request.path == "/api/v2/things/":
            if request.args.get("page") == "2":
                return json_response({"results": [{"id": 2}], "next": None})
            return json_response({"results": [{"id": 1}], "next": f"{where}/api/v2/things/?page=2"})
        return json_response({"detail": "Not found."}, status=404)


@pytest.fixture
def servers() -> Iterator[Callable[[], tuple[Pages, SandboxServer]]]:
    running: list[SandboxServer] = []

    def start() -> tuple[Pages, SandboxServer]:
        app = Pages()
        server = serve(app)
        running.append(server)
        return app, server

    yield start
    for server in running:
        server.stop()


def github(url: str) -> GitHubClient:
    connector = ConnectorSettings("gh", "github", {"url": url, "github_write_pace_ms": 0}, {"alm_api_token": "gh-tok"})
    return GitHubClient(connector, HttpFactory(retries=0))


def sde(url: str) -> SdeClient:
    return SdeClient(ConnectorSettings("sde", "sdelements", {"url": url}, {"api_token": "sde-tok"}), HttpFactory())


def read(client: GitHubClient | SdeClient, path: str) -> list[Any]:
    try:
        return [item for page in client.pages(path, what="listing") for item in page]
    finally:
        client.close()


def test_github_follows_its_own_next_link(servers: Callable[[], tuple[Pages, SandboxServer]]) -> None:
    app, server = servers()
    assert read(github(server.url), "/issues") == [{"number": 1}, {"number": 2}]
    assert [(p, a) for p, _, a in app.seen] == [("/issues", "Bearer gh-tok"), ("/issues", "Bearer gh-tok")]
    assert app.seen[0][1] == "per_page=100" and app.seen[1][1] == "page=2"


def test_sde_follows_its_own_next_url(servers: Callable[[], tuple[Pages, SandboxServer]]) -> None:
    app, server = servers()
    assert read(sde(server.url), "things/") == [{"id": 1}, {"id": 2}]
    assert [q for _, q, _ in app.seen] == ["page_size=1000", "page=2"]
    assert all(a == "Token sde-tok" for _, _, a in app.seen)


@pytest.mark.parametrize(("make", "path"), [(github, "/issues"), (sde, "things/")], ids=["github", "sdelements"])
def test_a_next_link_to_another_origin_is_refused(servers: Callable[[], tuple[Pages, SandboxServer]],
                                                  make: Callable[[str], GitHubClient | SdeClient], path: str) -> None:
    app, server = servers()
    other, elsewhere = servers()
    app.second = elsewhere.url
    with pytest.raises(CrossOriginError) as refused:
        read(make(server.url), path)
    assert f"another host ({elsewhere.url})" in refused.value.message
    assert len(app.seen) == 1 and other.seen == []  # nothing sent there, the token least of all
