"""The vendor's own Python client (pycontribs ``jira`` from PyPI) against the sandbox, in both modes."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

from almdesk.sandbox.base import SandboxServer
from tests.jira.conftest import app_of

jira_lib = pytest.importorskip("jira")


def client_for(server: SandboxServer, **kwargs: Any) -> Any:
    info = server.describe()
    if app_of(server).mode == "cloud":
        return jira_lib.JIRA(info["url"], basic_auth=(info["params"]["user"], info["secrets"]["token"]),
                             options={"rest_api_version": "3"}, max_retries=1, **kwargs)
    return jira_lib.JIRA(info["url"], token_auth=info["secrets"]["token"], max_retries=1, **kwargs)


def description(server: SandboxServer, text: str) -> Any:
    if app_of(server).mode == "cloud":
        return {"type": "doc", "version": 1,
                "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}]}
    return text


def test_pycontribs_jira_end_to_end(sandbox_factory: Any) -> None:
    for mode in ("cloud", "dc"):
        server = sandbox_factory(mode, max_results=5)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            j = client_for(server)
            assert j.server_info()["deploymentType"] == ("Cloud" if mode == "cloud" else "Server")
            assert j._is_cloud is (mode == "cloud")
            assert j.myself()["displayName"] == "Sandbox Admin"

            issue = j.create_issue(project="DEMO", summary="From pycontribs", issuetype={"name": "Bug"},
                                   description=description(server, "made by the vendor client"),
                                   labels=["SD-Elements"])
            assert issue.fields.summary == "From pycontribs" and issue.fields.status.name == "Open"

            results = j.create_issues([
                {"project": "DEMO", "summary": "bulk one", "issuetype": {"name": "Task"}},
                {"project": "DEMO", "summary": "bulk bad", "issuetype": {"name": "Task"}, "labels": ["no spaces"]},
                {"project": "DEMO", "summary": "bulk three", "issuetype": {"name": "Task"}},
            ])
            assert [r["status"] for r in results] == ["Success", "Error", "Success"]
            assert "contains spaces" in results[1]["error"]["labels"]
            assert [r["issue"].fields.summary for r in results if r["issue"]] == ["bulk one", "bulk three"]

            found = j.search_issues("project = DEMO ORDER BY key ASC", maxResults=False)
            assert len(found) == 15 + 3 and found[0].key == "DEMO-1"  # paged 5 at a time
            search_calls = [p for _, p, _ in app_of(server).log if "/search" in p]
            assert len(search_calls) >= 4

            names = [t["name"] for t in j.transitions(issue)]
            assert names == ["Start Progress", "Resolve Issue", "Close Issue"]
            j.transition_issue(issue, "Close Issue")
            closed = j.issue(issue.key)
            assert closed.fields.status.name == "Closed" and closed.fields.resolution.name == "Done"
            j.transition_issue(issue, "Reopen Issue")
            assert j.issue(issue.key).fields.status.name == "Reopened"


def test_pycontribs_sees_auth_failures(dc: SandboxServer) -> None:
    with pytest.raises(jira_lib.JIRAError) as info:
        jira_lib.JIRA(dc.url, token_auth="wrong", max_retries=0)
    assert info.value.status_code == 401
