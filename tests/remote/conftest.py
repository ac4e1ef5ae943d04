"""Remote admin fixtures: an SD Elements sandbox seeded with the seed's ALM examples (``seeds/002_…``),
a data directory with an SD Elements connector "SDE" for it, and the CLI run in-process over real HTTP.

``seed_values`` adjusts only what almdesk refuses in the seed's examples (a GitHub owner with a space,
a Jira Cloud user that is not an e-mail) and points the Jira connector at a closed loopback port (so
a desktop test of it fails at once instead of reaching out to the internet); secrets are canaries.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from almdesk.cli import main
from almdesk.sandbox.base import SandboxServer, serve
from almdesk.sandbox.sdelements import SdeApp, create
from almdesk.services import Services

GITHUB_TOKEN = "canary-gh-tok-7c1e9a55d2"
JIRA_PASS = "canary-jira-pw-41b8e0f3"
RALLY_PASS = "canary-rally-pw-0d9c2e"
CANARIES = (GITHUB_TOKEN, JIRA_PASS, RALLY_PASS)
# the seed's connection create example (its connector and project ids as the seed shows them)
CREATE_EXAMPLE = {"alias": "Example Connection", "connector": 2, "debug_mode": True, "project": 1,
                  "frequency": "hourly", "params": {"alm_project": "EXAMPLE", "alm_parent_issue": "Parent"}}


def seed_values(app: SdeApp) -> None:
    github, jira = app.store.connectors[1]["params"], app.store.connectors[2]["params"]
    github["github_repo_owner"], github["alm_api_token"] = "repo-owner", GITHUB_TOKEN
    jira["alm_user"], jira["alm_pass"], jira["alm_server"] = "user@example.com", JIRA_PASS, "127.0.0.1:9"
    jira["alm_method"] = "http"
    app.store.connections[1]["own_params"]["alm_pass"] = RALLY_PASS


@dataclass
class Env:
    app: SdeApp
    server: SandboxServer
    data_dir: Path
    services: Services
    token: str

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(method, f"{self.server.url}/api/v2/{path}", timeout=10,
                                headers={"Authorization": f"Token {self.token}", "Accept": "application/json"},
                                **kwargs)

    def cli(self, *args: str, stdin: str = "") -> tuple[int, dict[str, Any], str]:
        out = io.StringIO()
        code = main(["--data-dir", str(self.data_dir), "--json", *args], stdin=io.StringIO(stdin), stdout=out)
        text = out.getvalue()
        doc = json.loads(text.strip().splitlines()[-1])
        return code, doc, text

    def plain(self, *args: str, stdin: str = "") -> tuple[int, str]:
        """The CLI without --json: exit code and what it printed."""
        out = io.StringIO()
        code = main(["--data-dir", str(self.data_dir), *args], stdin=io.StringIO(stdin), stdout=out)
        return code, out.getvalue()

    def restart(self) -> None:
        """Start the (stopped) server again on the same port, with the same data."""
        self.server = serve(self.app, port=self.server.port)


def make_env(app: SdeApp, data_dir: Path) -> Env:
    server = serve(app)
    info = server.describe()
    services = Services.open(data_dir)
    services.config.save_connector("SDE", "sdelements", info["params"], info["secrets"])
    return Env(app, server, data_dir, services, info["secrets"]["api_token"])


@pytest.fixture
def env(data_dir: Path) -> Iterator[Env]:
    app = create(seed=3)
    seed_values(app)
    e = make_env(app, data_dir)
    assert e.api("POST", "connections/alm/", json=CREATE_EXAMPLE).status_code == 201
    yield e
    e.server.stop()
    e.services.close()


@pytest.fixture
def literal_env(data_dir: Path) -> Iterator[Env]:
    """The sandbox exactly as seeded with the seed's examples."""
    e = make_env(create(seed=3), data_dir)
    yield e
    e.server.stop()
    e.services.close()
