"""The Jira sandbox's wire protocol, over plain HTTP: auth, paging, bulk create, workflows, errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests

from almdesk.sandbox.base import Faults, SandboxServer, serve
from almdesk.sandbox.jira import create
from tests.jira.conftest import app_of


def session_for(server: SandboxServer) -> requests.Session:
    info = server.describe()
    s = requests.Session()
    if app_of(server).mode == "cloud":
        s.auth = (info["params"]["user"], info["secrets"]["token"])
    else:
        s.headers["Authorization"] = f"Bearer {info['secrets']['token']}"
    return s


def api(server: SandboxServer, path: str) -> str:
    return f"{server.url}/rest/api/{'3' if app_of(server).mode == 'cloud' else '2'}/{path}"


def test_describe_names_connector_fields(jira: SandboxServer) -> None:
    info = jira.describe()
    assert info["system"] == "jira" and info["url"] == jira.url
    assert set(info["params"]) == {"url", "deployment", "auth_method", "user"}
    assert set(info["secrets"]) == {"token"}
    assert info["connection_params"]["alm_project"] == "DEMO"


def test_server_info_is_anonymous(jira: SandboxServer) -> None:
    body = requests.get(f"{jira.url}/rest/api/2/serverInfo", timeout=5).json()
    mode = app_of(jira).mode
    assert body["deploymentType"] == ("Cloud" if mode == "cloud" else "Server")
    assert body["baseUrl"] == jira.url and len(body["versionNumbers"]) == 3


def test_v3_only_on_cloud(jira: SandboxServer) -> None:
    response = requests.get(f"{jira.url}/rest/api/3/serverInfo", timeout=5)
    if app_of(jira).mode == "cloud":
        assert response.status_code == 200
    else:
        assert response.status_code == 404 and response.json()["message"].startswith("null for uri")


def test_failed_auth_headers(jira: SandboxServer) -> None:
    response = requests.get(api(jira, "myself"), auth=("admin@example.com", "nope"), timeout=5)
    assert response.status_code == 401
    assert response.headers["X-Seraph-LoginReason"] == "AUTHENTICATED_FAILED"
    anonymous = requests.get(api(jira, "myself"), timeout=5)
    assert anonymous.status_code == 401 and "not authenticated" in anonymous.json()["errorMessages"][0]


def test_cloud_refuses_bearer_and_passwords(cloud: SandboxServer, dc: SandboxServer) -> None:
    token = cloud.describe()["secrets"]["token"]
    bearer = requests.get(f"{cloud.url}/rest/api/3/myself", headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert bearer.status_code == 401
    password = app_of(cloud).admin.password
    basic = requests.get(f"{cloud.url}/rest/api/3/myself", auth=("admin@example.com", password), timeout=5)
    assert basic.status_code == 401 and "passwords is deprecated" in basic.text
    admin = app_of(dc).admin
    assert requests.get(f"{dc.url}/rest/api/2/myself", auth=("admin", admin.password), timeout=5).ok
    pat_as_basic = requests.get(f"{dc.url}/rest/api/2/myself", auth=("admin", admin.pat), timeout=5)
    assert pat_as_basic.status_code == 401


def test_project_not_found_message(jira: SandboxServer) -> None:
    response = session_for(jira).get(api(jira, "project/NOPE"), timeout=5)
    assert response.status_code == 404
    assert response.json() == {"errorMessages": ["No project could be found with key 'NOPE'."], "errors": {}}


def test_createmeta_shapes_differ(jira: SandboxServer) -> None:
    s = session_for(jira)
    types = s.get(api(jira, "issue/createmeta/DEMO/issuetypes"), timeout=5).json()
    key = "issueTypes" if app_of(jira).mode == "cloud" else "values"
    names = [t["name"] for t in types[key]]
    assert names == ["Bug", "Task", "Story", "Sub-task", "Epic"] and types["total"] == 5
    sec = s.get(api(jira, "issue/createmeta/SEC/issuetypes"), timeout=5).json()[key]
    bug = next(t for t in sec if t["name"] == "Bug")
    fields = s.get(api(jira, f"issue/createmeta/SEC/issuetypes/{bug['id']}"), timeout=5).json()
    meta = fields["fields" if key == "issueTypes" else "values"]
    severity = next(f for f in meta if f["fieldId"] == "customfield_10050")
    assert severity["required"] and not severity["hasDefaultValue"]
    assert [v["value"] for v in severity["allowedValues"]] == ["Low", "Medium", "High", "Critical"]


def _fields(server: SandboxServer, **extra: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {"project": {"key": "DEMO"}, "issuetype": {"name": "Bug"}, "summary": "Hello"}
    fields.update(extra)
    return fields


def test_v3_description_must_be_adf(cloud: SandboxServer) -> None:
    s = session_for(cloud)
    bad = s.post(f"{cloud.url}/rest/api/3/issue", json={"fields": _fields(cloud, description="plain")}, timeout=5)
    assert bad.status_code == 400 and "Atlassian Document" in bad.json()["errors"]["description"]
    doc = {"type": "doc", "version": 1, "content": [{"type": "paragraph", "content": [{"type": "text", "text": "hi"}]}]}
    ok = s.post(f"{cloud.url}/rest/api/3/issue", json={"fields": _fields(cloud, description=doc)}, timeout=5)
    assert ok.status_code == 201
    key = ok.json()["key"]
    v3 = s.get(f"{cloud.url}/rest/api/3/issue/{key}", params={"fields": "description"}, timeout=5).json()
    v2 = s.get(f"{cloud.url}/rest/api/2/issue/{key}", params={"fields": "description"}, timeout=5).json()
    assert v3["fields"]["description"] == doc and v2["fields"]["description"] == "hi"


def test_create_validation_messages(jira: SandboxServer) -> None:
    s = session_for(jira)
    cases = [
        (_fields(jira, summary=""), "summary", "You must specify a summary of the issue."),
        (_fields(jira, labels=["a b"]), "labels", "The label 'a b' contains spaces which is invalid."),
        (_fields(jira, project={"key": "NOPE"}), "project", "Specify a valid project ID or key"),
        (_fields(jira, issuetype={"name": "Incident"}), "issuetype", "The issue type selected is invalid."),
        (_fields(jira, issuetype={"name": "Sub-task"}), "issuetype",
         "Issue type is a sub-task but parent issue key or id not specified."),
        ({**_fields(jira), "project": {"key": "SEC"}}, "customfield_10050", "Security Severity is required."),
        ({**_fields(jira), "project": {"key": "SEC"}, "issuetype": {"name": "Incident"}, "labels": ["x"]}, "labels",
         "Field 'labels' cannot be set. It is not on the appropriate screen, or unknown."),
    ]
    for fields, field, message in cases:
        response = s.post(api(jira, "issue"), json={"fields": fields}, timeout=5)
        assert response.status_code == 400, fields
        assert response.json()["errors"][field] == message


def test_bulk_create_partial_failure_shape(jira: SandboxServer) -> None:
    s = session_for(jira)
    updates = [{"fields": _fields(jira, summary="one")}, {"fields": _fields(jira, summary="")},
               {"fields": _fields(jira, summary="three")}]
    response = s.post(api(jira, "issue/bulk"), json={"issueUpdates": updates}, timeout=5)
    assert response.status_code == 201
    body = response.json()
    assert [i["key"] for i in body["issues"]] == ["DEMO-16", "DEMO-17"]
    assert body["errors"] == [{"status": 400, "failedElementNumber": 1, "elementErrors": {
        "errorMessages": [], "errors": {"summary": "You must specify a summary of the issue."}}}]
    none = s.post(api(jira, "issue/bulk"), json={"issueUpdates": [updates[1]]}, timeout=5)
    assert none.status_code == 400 and none.json()["issues"] == []
    too_many = s.post(api(jira, "issue/bulk"), json={"issueUpdates": [updates[0]] * 51}, timeout=5)
    assert too_many.status_code == 400 and "limit of 50" in too_many.json()["errorMessages"][0]


def test_workflows_differ_per_issue_type(jira: SandboxServer) -> None:
    s = session_for(jira)
    bug = s.post(api(jira, "issue"), json={"fields": _fields(jira)}, timeout=5).json()["key"]
    task = s.post(api(jira, "issue"), json={"fields": _fields(jira, issuetype={"name": "Task"})}, timeout=5).json()
    names = {key: [t["name"] for t in s.get(api(jira, f"issue/{key}/transitions"), timeout=5).json()["transitions"]]
             for key in (bug, task["key"])}
    assert names[bug] == ["Start Progress", "Resolve Issue", "Close Issue"]
    assert names[task["key"]] == ["In Progress", "Done"]
    wrong = s.post(api(jira, f"issue/{bug}/transitions"), json={"transition": {"id": "31"}}, timeout=5)
    assert wrong.status_code == 400
    assert wrong.json()["errorMessages"] == ["Transition id '31' is not valid for this issue."]
    needs = s.post(api(jira, f"issue/{bug}/transitions"), json={"transition": {"id": "5"}}, timeout=5)
    assert needs.status_code == 400 and "resolution" in needs.json()["errors"]
    done = s.post(api(jira, f"issue/{bug}/transitions"), json={"transition": {"id": "2"}}, timeout=5)
    assert done.status_code == 204 and done.content == b""
    issue = s.get(api(jira, f"issue/{bug}"), params={"fields": "status,resolution"}, timeout=5).json()
    assert issue["fields"]["status"]["name"] == "Closed" and issue["fields"]["resolution"]["name"] == "Done"
    back = [t["name"] for t in s.get(api(jira, f"issue/{bug}/transitions"), timeout=5).json()["transitions"]]
    assert back == ["Reopen Issue"]


def test_dc_search_paging_with_total(dc: SandboxServer) -> None:
    s = session_for(dc)
    jql = "project = DEMO ORDER BY key ASC"
    first = s.get(f"{dc.url}/rest/api/2/search", params={"jql": jql, "maxResults": 5, "fields": "summary"},
                  timeout=5).json()
    assert first["startAt"] == 0 and first["maxResults"] == 5 and first["total"] == 15
    assert [i["key"] for i in first["issues"]] == [f"DEMO-{n}" for n in range(1, 6)]
    last = s.post(f"{dc.url}/rest/api/2/search", json={"jql": jql, "startAt": 10, "maxResults": 50}, timeout=5).json()
    assert [i["key"] for i in last["issues"]][-1] == "DEMO-15" and len(last["issues"]) == 5
    count = s.get(f"{dc.url}/rest/api/2/search", params={"jql": jql, "maxResults": 0}, timeout=5).json()
    assert count["total"] == 15 and count["issues"] == []
    assert s.get(f"{dc.url}/rest/api/2/search/jql", params={"jql": jql}, timeout=5).status_code == 404


def test_cloud_search_token_paging(cloud: SandboxServer) -> None:
    s = session_for(cloud)
    jql = "project = DEMO ORDER BY key ASC"
    assert s.get(f"{cloud.url}/rest/api/3/search", params={"jql": jql}, timeout=5).status_code == 410
    keys: list[str] = []
    token = None
    pages = 0
    while True:
        body: dict[str, Any] = {"jql": jql, "maxResults": 6, "fields": ["summary"]}
        if token:
            body["nextPageToken"] = token
        page = s.post(f"{cloud.url}/rest/api/3/search/jql", json=body, timeout=5).json()
        pages += 1
        assert "total" not in page
        keys += [i["key"] for i in page["issues"]]
        token = page.get("nextPageToken")
        if page["isLast"]:
            assert token is None
            break
    assert pages == 3 and keys == [f"DEMO-{n}" for n in range(1, 16)]
    ids_only = s.get(f"{cloud.url}/rest/api/3/search/jql", params={"jql": jql, "maxResults": 2}, timeout=5).json()
    assert "fields" not in ids_only["issues"][0]
    unbounded = s.get(f"{cloud.url}/rest/api/3/search/jql", params={"jql": "ORDER BY key"}, timeout=5)
    assert unbounded.status_code == 400 and "Unbounded" in unbounded.json()["errorMessages"][0]
    bad_token = s.post(f"{cloud.url}/rest/api/3/search/jql", json={"jql": "project = OPS", "nextPageToken": "zz"},
                       timeout=5)
    assert bad_token.status_code == 400
    count = s.post(f"{cloud.url}/rest/api/3/search/approximate-count", json={"jql": jql}, timeout=5).json()
    assert count == {"count": 15}


@pytest.mark.parametrize(("jql", "message"), [
    ("project = NOPE", "The value 'NOPE' does not exist for the field 'project'."),
    ("bogus = 1", "Field 'bogus' does not exist or you do not have permission to view it."),
    ("labels = and", "'and' is a reserved JQL word"),
    ('summary ~ "\\["', "illegal JQL escape sequence"),
    ("summary = x", "The operator '=' is not supported by the 'summary' field."),
    ("status = Nowhere", "The value 'Nowhere' does not exist for the field 'status'."),
    ("key = DEMO-999", "An issue with key 'DEMO-999' does not exist for field 'key'."),
])
def test_jql_errors(dc: SandboxServer, jql: str, message: str) -> None:
    response = session_for(dc).get(f"{dc.url}/rest/api/2/search", params={"jql": jql}, timeout=5)
    assert response.status_code == 400 and message in response.json()["errorMessages"][0]


@pytest.mark.parametrize(("jql", "keys"), [
    ('project = DEMO AND summary ~ "\\"T504:\\""', ["DEMO-4"]),
    ('project = DEMO AND summary ~ "\\"T501:\\"" ORDER BY key', ["DEMO-1"]),
    ("key in (DEMO-1, DEMO-3) ORDER BY key DESC", ["DEMO-3", "DEMO-1"]),
    ('project = DEMO AND issuetype = Sub-task ORDER BY key', ["DEMO-14", "DEMO-15"]),
    ("parent = DEMO-13 ORDER BY key", ["DEMO-14", "DEMO-15"]),
    ('project = OPS AND status in ("To Do", Done) AND NOT labels is not EMPTY ORDER BY key',
     ["OPS-1", "OPS-2", "OPS-3"]),
    ('project = SEC AND cf[10050] = Critical', ["SEC-4"]),
    ('project = SEC AND "Security Severity" in (Low, critical) ORDER BY key', ["SEC-1", "SEC-4", "SEC-5"]),
])
def test_jql_queries(jira: SandboxServer, jql: str, keys: list[str]) -> None:
    s = session_for(jira)
    if app_of(jira).mode == "cloud":
        found = s.post(f"{jira.url}/rest/api/3/search/jql", json={"jql": jql, "fields": ["key"]}, timeout=5).json()
    else:
        found = s.post(f"{jira.url}/rest/api/2/search", json={"jql": jql}, timeout=5).json()
    assert [i["key"] for i in found["issues"]] == keys


def test_rate_limit_429(sandbox_factory: Callable[..., SandboxServer]) -> None:
    for mode in ("cloud", "dc"):
        server = sandbox_factory(mode, rate_limit=(2, 0.5))
        s = session_for(server)
        statuses = [s.get(api(server, "myself"), timeout=5) for _ in range(3)]
        limited = statuses[-1]
        assert [r.status_code for r in statuses] == [200, 200, 429]
        assert int(limited.headers["Retry-After"]) >= 1
        extra = "RateLimit-Reason" if mode == "cloud" else "X-RateLimit-FillRate"
        assert extra in limited.headers


def test_strict_rate_limits_option() -> None:
    app = create(0, mode="cloud", strict_rate_limits=True, issues=1, unrelated_option=True)
    assert app.limiter is not None and app.limiter.capacity == 20


def test_fault_injection(stopper: Callable[[SandboxServer], None]) -> None:
    server = serve(create(1, mode="dc", issues=2), faults=Faults.parse("500:1"))
    try:
        response = requests.get(f"{server.url}/rest/api/2/serverInfo", timeout=5)
        assert response.status_code == 500
    finally:
        stopper(server)


def test_context_path_and_browse(sandbox_factory: Callable[..., SandboxServer]) -> None:
    server = sandbox_factory("dc", context_path="/jira")
    info = server.describe()
    assert info["url"] == server.url + "/jira"
    assert requests.get(f"{server.url}/jira/rest/api/2/serverInfo", timeout=5).json()["baseUrl"] == info["url"]
    page = requests.get(f"{server.url}/jira/browse/DEMO-1", timeout=5)
    assert page.status_code == 200 and "DEMO-1" in page.text
    assert requests.get(f"{server.url}/rest/api/2/serverInfo", timeout=5).status_code == 404
