"""The Jira sandbox is as strict as Jira: ``application/json;charset=UTF-8``, ``serverTime`` as ``+0000``,
``X-AAccountId`` on Cloud, media types (403 "XSRF check failed" for form posts, 415, 406), Cloud's
deprecated ``issue/createmeta?projectKeys=`` and DC 9+'s paged ``createmeta/{project}/issuetypes``
through pycontribs ``jira`` (which picks the call by deployment and version) and plain HTTP."""

from __future__ import annotations

import re

import requests
from jira import JIRA

from almdesk.sandbox.base import SandboxServer
from tests.jira.conftest import app_of
from tests.jira.test_jira_sandbox import api, session_for


def test_json_charset_and_server_time(jira: SandboxServer) -> None:
    r = requests.get(f"{jira.url}/rest/api/2/serverInfo", timeout=5)
    assert r.headers["Content-Type"] == "application/json;charset=UTF-8"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", r.json()["serverTime"])
    assert r.json()["buildDate"].endswith("+0000")
    assert "X-AAccountId" not in r.headers  # anonymous


def test_account_id_header_on_cloud_only(jira: SandboxServer) -> None:
    r = session_for(jira).get(api(jira, "myself"), timeout=5)
    assert r.status_code == 200
    if app_of(jira).mode == "cloud":
        assert r.headers["X-AAccountId"] == r.json()["accountId"]
    else:
        assert "X-AAccountId" not in r.headers


def test_media_types_are_checked(jira: SandboxServer) -> None:
    s = session_for(jira)
    url = api(jira, "issue")
    body = '{"fields": {"project": {"key": "DEMO"}, "issuetype": {"name": "Bug"}, "summary": "x"}}'
    form = s.post(url, data={"summary": "x"}, timeout=5)
    assert form.status_code == 403 and form.text == "XSRF check failed"
    assert s.post(url, data=body, headers={"Content-Type": "text/plain"}, timeout=5).status_code == 403
    no_check = s.post(url, data={"summary": "x"}, headers={"X-Atlassian-Token": "no-check"}, timeout=5)
    assert no_check.status_code == 415
    bare = requests.Request("POST", url, data=body.encode(), auth=s.auth, headers=dict(s.headers)).prepare()
    bare.headers.pop("Content-Type", None)
    assert s.send(bare, timeout=5).status_code == 415
    assert s.get(api(jira, "myself"), headers={"Accept": "application/xml"}, timeout=5).status_code == 406
    created = s.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=5)
    assert created.status_code == 201, created.text
    assert app_of(jira).data.issue(created.json()["key"]) is not None
    assert len([i for i in app_of(jira).data.issues.values() if i.summary == "x"]) == 1  # refused ones made none


def test_createmeta_as_each_deployment_serves_it(jira: SandboxServer) -> None:
    info = jira.describe()
    cloud = app_of(jira).mode == "cloud"
    if cloud:
        client = JIRA(server=info["url"], basic_auth=(info["params"]["user"], info["secrets"]["token"]))
        meta = client.createmeta(projectKeys="DEMO", issuetypeNames="Bug", expand="projects.issuetypes.fields")
        (project,) = meta["projects"]
        (bug,) = project["issuetypes"]
        assert project["key"] == "DEMO" and bug["name"] == "Bug"
        assert bug["fields"]["summary"]["required"] is True
        assert [p["name"] for p in bug["fields"]["priority"]["allowedValues"]][:1]
    else:
        client = JIRA(server=info["url"], token_auth=info["secrets"]["token"])
        types = client.project_issue_types("DEMO")
        assert "Bug" in [t.name for t in types]
        bug = next(t for t in types if t.name == "Bug")
        fields = {f.fieldId: f for f in client.project_issue_fields("DEMO", bug.id)}
        assert fields["summary"].required and [v.name for v in fields["priority"].allowedValues]
        gone = session_for(jira).get(api(jira, "issue/createmeta"), params={"projectKeys": "DEMO"}, timeout=5)
        assert gone.status_code == 404  # removed in Jira 9
        paged = session_for(jira).get(api(jira, "issue/createmeta/DEMO/issuetypes"), timeout=5).json()
        assert set(paged) >= {"values", "isLast", "startAt", "maxResults", "total"}
