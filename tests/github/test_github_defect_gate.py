"""Create Defect and the gate against the sandbox, checked against the sandbox's own data and requests."""

from __future__ import annotations

import json
from typing import Any

import pytest

from almdesk.base.records import DefectRequest, GateRequest
from almdesk.base.settings import ConnectionSettings
from almdesk.errors import ConfigError
from almdesk.jobs.context import JobContext
from almdesk.net.session import HttpFactory
from almdesk.sandbox.github import GitHubSandbox
from almdesk.sandbox.github.model import Repo
from almdesk.systems.github import SYSTEM
from almdesk.systems.github.issues import PUBLIC_NOTE
from tests.github.conftest import make_connection

ISSUES = r"/repos/almdesk-demo/[^/]+/issues"


def repo_of(app: GitHubSandbox, name: str = "webapp") -> Repo:
    repo = app.world.repo("almdesk-demo", name)
    assert repo is not None
    return repo


def test_create_defect(gh_app: GitHubSandbox, connection: ConnectionSettings, http: HttpFactory,
                       ctx: JobContext) -> None:
    request = DefectRequest(name="Login fails  on Safari", description="Steps: open, click.", release="v2.0",
                            severity="severity:high")
    item = SYSTEM.create_defect(connection, request, http, ctx)
    issue = repo_of(gh_app).issues[int(item.id)]
    assert item.key == f"#{item.id}" and item.url.endswith(f"/almdesk-demo/webapp/issues/{item.id}")
    assert issue.title == "Login fails on Safari" and issue.milestone == 2
    assert issue.labels == ["bug", "severity:high"] and issue.body and issue.body.startswith("Steps: open, click.")
    assert any("Created issue" in line for _, line in ctx.lines)


def test_create_defect_in_public_repo_withholds_description(gh_app: GitHubSandbox, connection: ConnectionSettings,
                                                            http: HttpFactory, ctx: JobContext,
                                                            gh_info: dict[str, Any]) -> None:
    request = DefectRequest(name="Public defect", description="SECRET internal details", workspace="public-site")
    SYSTEM.create_defect(connection, request, http, ctx)
    [sent] = gh_app.requests_to("POST", ISSUES)
    body = json.loads(sent.body)
    assert "SECRET" not in sent.body.decode() and body["body"].startswith(PUBLIC_NOTE)
    opted = make_connection(connection.connector, gh_info, github_public_content=True)
    SYSTEM.create_defect(opted, request, http, ctx)
    assert b"SECRET internal details" in gh_app.requests_to("POST", ISSUES)[-1].body


def test_create_defect_errors(connection: ConnectionSettings, http: HttpFactory, ctx: JobContext) -> None:
    with pytest.raises(ConfigError) as caught:
        SYSTEM.create_defect(connection, DefectRequest(name="x", release="v7"), http, ctx)
    assert caught.value.field == "release" and "v1.0" in caught.value.hint
    with pytest.raises(ConfigError) as caught:
        SYSTEM.create_defect(connection, DefectRequest(name="  "), http, ctx)
    assert caught.value.field == "name"
    with pytest.raises(ConfigError) as caught:
        SYSTEM.create_defect(connection, DefectRequest(name="x", workspace="legacy"), http, ctx)
    assert "turned off" in caught.value.message and caught.value.field == "workspace"
    with pytest.raises(ConfigError) as caught:
        SYSTEM.create_defect(connection, DefectRequest(name="x", workspace="nope"), http, ctx)
    assert caught.value.field == "workspace" and "webapp" in caught.value.hint


def expected_open(repo: Repo, *, labels: tuple[str, ...] = (), any_of: tuple[str, ...] = (),
                  milestone: int | None = None) -> int:
    count = 0
    for issue in repo.issues.values():
        names = {n.lower() for n in issue.labels}
        if issue.pull_request or issue.state != "open":
            continue
        if milestone is not None and issue.milestone != milestone:
            continue
        if not {x.lower() for x in labels} <= names or (any_of and not names & {x.lower() for x in any_of}):
            continue
        count += 1
    return count


def test_gate_counts_open_issues(gh_app: GitHubSandbox, connection: ConnectionSettings, http: HttpFactory,
                                 ctx: JobContext) -> None:
    repo = repo_of(gh_app)
    result = SYSTEM.gate(connection, GateRequest(threshold=1000, operator="<="), http, ctx)
    assert result.count == expected_open(repo) > 0 and result.passed
    assert result.requests == 2  # the repository, then one page of open issues
    bugs = SYSTEM.gate(connection, GateRequest(labels=["BUG"], severities=["severity:high", "severity:medium"],
                                               release="v2.0", threshold=0, operator="LT"), http, ctx)
    assert bugs.count == expected_open(repo, labels=("bug",), any_of=("severity:high", "severity:medium"),
                                       milestone=2)
    assert bugs.operator == "<=" and bugs.passed == (bugs.count <= 0)
    assert "milestone 'v2.0'" in bugs.query and "severity severity:high or severity:medium" in bugs.query
    assert bugs.items is not None
    items = bugs.items(0, 1000)
    assert len(items) == bugs.count and all(i.url.endswith(f"/issues/{i.id}") for i in items)
    assert bugs.items(1, 1) == items[1:2]


def test_gate_rejects_unknown_names(connection: ConnectionSettings, http: HttpFactory, ctx: JobContext) -> None:
    with pytest.raises(ConfigError) as caught:
        SYSTEM.gate(connection, GateRequest(labels=["bgu"], threshold=0), http, ctx)
    assert caught.value.field == "labels" and "bug" in caught.value.hint
    with pytest.raises(ConfigError) as caught:
        SYSTEM.gate(connection, GateRequest(release="v3.0", threshold=0), http, ctx)
    assert caught.value.field == "release"
    with pytest.raises(ConfigError) as caught:
        SYSTEM.gate(connection, GateRequest(threshold=0, operator="~"), http, ctx)
    assert caught.value.field == "operator"


def test_gate_on_another_repository(gh_app: GitHubSandbox, connection: ConnectionSettings, http: HttpFactory,
                                    ctx: JobContext) -> None:
    result = SYSTEM.gate(connection, GateRequest(workspace="almdesk-demo/public-site", threshold=0, operator=">"),
                         http, ctx)
    assert result.count == expected_open(repo_of(gh_app, "public-site"))
    assert result.query.startswith("open issues in almdesk-demo/public-site")
