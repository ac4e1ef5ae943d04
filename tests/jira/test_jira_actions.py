"""Create Defect and Gate against the Jira sandbox, in both modes."""

from __future__ import annotations

import pytest

from almdesk.base.records import DefectRequest, GateRequest
from almdesk.errors import ConfigError
from almdesk.jobs.context import JobContext
from almdesk.net.session import HttpFactory
from almdesk.sandbox.base import SandboxServer
from almdesk.systems.jira import SYSTEM
from tests.jira.conftest import app_of, connection_for, connector_for


def test_create_defect(jira: SandboxServer, http: HttpFactory, ctx: JobContext) -> None:
    connection = connection_for(connector_for(jira), jira)
    request = DefectRequest(name='Release 2.0 smoke test failed: "login" \\ 500', release="2.0",
                            description="Steps:\n1. open\n2. log in\n\nExpected: no error.", severity="")
    item = SYSTEM.create_defect(connection, request, http, ctx)
    app = app_of(jira)
    issue = app.data.issue(item.key)
    assert issue is not None and item.url == f"{jira.url}/browse/{item.key}"
    assert issue.summary == request.name
    assert issue.description == request.description  # ADF on Cloud, plain on DC: same text back
    assert issue.labels == ["SD-Elements"]
    assert [app.data.version(v).name for v in issue.fix_versions] == ["2.0"]  # type: ignore[union-attr]
    assert app.data.issue_types[issue.issuetype].name == "Bug"
    posted = [p for m, p, _ in app.log if m == "POST"]
    assert posted == [f"/rest/api/{'3' if app.mode == 'cloud' else '2'}/issue?"]


def test_create_defect_severity_is_priority(jira: SandboxServer, http: HttpFactory, ctx: JobContext) -> None:
    connection = connection_for(connector_for(jira), jira)
    app = app_of(jira)
    name = app.data.priorities[1][1]  # High (Cloud) / Critical (DC)
    item = SYSTEM.create_defect(connection, DefectRequest(name="x", severity=name.lower()), http, ctx)
    assert app.data.priority_name(app.data.issue(item.key).priority) == name  # type: ignore[union-attr]
    with pytest.raises(ConfigError) as info:
        SYSTEM.create_defect(connection, DefectRequest(name="x", severity="Urgent"), http, ctx)
    assert info.value.field == "severity" and name in info.value.hint


def test_create_defect_unknown_release(jira: SandboxServer, http: HttpFactory, ctx: JobContext) -> None:
    connection = connection_for(connector_for(jira), jira)
    with pytest.raises(ConfigError) as info:
        SYSTEM.create_defect(connection, DefectRequest(name="x", release="9.9"), http, ctx)
    assert info.value.field == "release" and "1.0, 1.1, 2.0" in info.value.hint


def test_create_defect_in_other_project_with_required_field(jira: SandboxServer, http: HttpFactory,
                                                            ctx: JobContext) -> None:
    connection = connection_for(connector_for(jira), jira, alm_custom_fields='{"Security Severity": "Critical"}')
    item = SYSTEM.create_defect(connection, DefectRequest(name="Vuln", workspace="SEC"), http, ctx)
    issue = app_of(jira).data.issue(item.key)
    assert item.key.startswith("SEC-") and issue is not None
    assert issue.custom["customfield_10050"] == "Critical"


def test_create_defect_summary_checked_before_any_request(jira: SandboxServer, http: HttpFactory,
                                                          ctx: JobContext) -> None:
    connection = connection_for(connector_for(jira), jira)
    for bad in ("", "a\nb", "x" * 256):
        with pytest.raises(ConfigError) as info:
            SYSTEM.create_defect(connection, DefectRequest(name=bad), http, ctx)
        assert info.value.field == "name"
    assert http.requests == 0


def test_create_sub_task(jira: SandboxServer, http: HttpFactory, ctx: JobContext) -> None:
    connection = connection_for(connector_for(jira), jira, jira_issue_type="Sub-task", alm_parent_issue="DEMO-2")
    item = SYSTEM.create_defect(connection, DefectRequest(name="child"), http, ctx)
    data = app_of(jira).data
    child = data.issue(item.key)
    assert child is not None and child.parent == data.issue("DEMO-2").id  # type: ignore[union-attr]


def open_bugs(server: SandboxServer, **filters: object) -> int:
    data = app_of(server).data
    demo = data.project("DEMO")
    assert demo is not None
    return sum(1 for i in data.issues.values()
               if i.project == demo.id and data.issue_types[i.issuetype].name == "Bug"
               and data.statuses[i.status].name not in ("Resolved", "Closed"))


GATE_CASES = [("<", -1, False), ("<", 0, False), ("<", 1, True), ("<=", -1, False), ("<=", 0, True),
              ("<=", 1, True), ("=", 0, True), ("=", 1, False), (">=", 0, True), (">=", 1, False),
              (">", -1, True), (">", 0, False), ("LT", 0, True), ("GT", 0, True), ("EQ", 0, True),
              ("GT", 1, False)]


@pytest.mark.parametrize(("operator", "offset", "passes"), GATE_CASES)
def test_gate_operator_table(cloud: SandboxServer, dc: SandboxServer, http: HttpFactory, operator: str,
                             offset: int, passes: bool) -> None:
    for server in (cloud, dc):
        count = open_bugs(server)
        assert count > 0
        connection = connection_for(connector_for(server), server)
        result = SYSTEM.gate(connection, GateRequest(threshold=count + offset, operator=operator), http,
                             JobContext())
        assert result.count == count
        assert result.passed is passes, (operator, count, count + offset)


def test_gate_counts_in_one_request_on_dc(dc: SandboxServer, http: HttpFactory) -> None:
    connection = connection_for(connector_for(dc), dc)
    app = app_of(dc)
    before = len(app.log)
    result = SYSTEM.gate(connection, GateRequest(threshold=100, operator="<="), http, JobContext())
    searches = [p for _, p, _ in app.log[before:] if "/search" in p]
    assert len(searches) == 1 and "maxResults=0" in searches[0]
    assert result.passed and 'status not in ("Resolved", "Closed")' in result.query


def test_gate_counts_with_approximate_count_on_cloud(cloud: SandboxServer, http: HttpFactory) -> None:
    connection = connection_for(connector_for(cloud), cloud)
    app = app_of(cloud)
    before = len(app.log)
    SYSTEM.gate(connection, GateRequest(threshold=0, operator=">="), http, JobContext())
    searches = [p for _, p, _ in app.log[before:] if "/search" in p]
    assert searches == ["/rest/api/3/search/approximate-count?"]


def test_gate_filters_and_items(jira: SandboxServer, http: HttpFactory, ctx: JobContext) -> None:
    connection = connection_for(connector_for(jira), jira)
    data = app_of(jira).data
    demo = data.project("DEMO")
    assert demo is not None
    sample = next(i for i in data.issues.values() if i.project == demo.id and i.status == "1"
                  and data.issue_types[i.issuetype].name == "Bug" and "SD-Elements" in i.labels)
    sample.fix_versions = [demo.versions[0].id]  # 1.0
    top = data.priority_name(sample.priority)
    request = GateRequest(release="1.0", severities=[top.upper()], labels=["SD-Elements"], phases=["open"],
                          threshold=1, operator="=")
    result = SYSTEM.gate(connection, request, http, ctx)
    assert 'fixVersion = "1.0"' in result.query and f'priority in ("{top}")' in result.query
    assert 'status in ("Open")' in result.query and 'labels = "SD-Elements"' in result.query
    expected = [i for i in data.issues.values() if i.project == demo.id and i.status == "1"
                and data.issue_types[i.issuetype].name == "Bug" and i.priority == sample.priority
                and "SD-Elements" in i.labels and demo.versions[0].id in i.fix_versions]
    assert sample in expected and result.count == len(expected)
    assert result.items is not None
    assert sorted(i.key for i in result.items(0, 50)) == sorted(i.key for i in expected)


def test_gate_items_page_on_demand(jira: SandboxServer, http: HttpFactory, ctx: JobContext) -> None:
    connection = connection_for(connector_for(jira), jira)
    result = SYSTEM.gate(connection, GateRequest(threshold=0, operator=">="), http, ctx)
    assert result.items is not None
    first, second = result.items(0, 2), result.items(2, 2)
    every = result.items(0, 100)
    assert [i.key for i in first + second] == [i.key for i in every[:4]]
    assert len(every) == result.count and all(i.url.endswith(f"/browse/{i.key}") for i in every)


@pytest.mark.parametrize(("field", "request_"), [
    ("release", GateRequest(release="7.7")),
    ("severity", GateRequest(severities=["Urgent"])),
    ("phase", GateRequest(phases=["Nowhere"])),
])
def test_gate_unknown_names_list_valid_ones(dc: SandboxServer, http: HttpFactory, field: str,
                                            request_: GateRequest) -> None:
    connection = connection_for(connector_for(dc), dc)
    with pytest.raises(ConfigError) as info:
        SYSTEM.gate(connection, request_, http, JobContext())
    assert info.value.field == field and info.value.hint.startswith("Valid ")


def test_gate_bad_operator(dc: SandboxServer, http: HttpFactory) -> None:
    connection = connection_for(connector_for(dc), dc)
    with pytest.raises(ConfigError):
        SYSTEM.gate(connection, GateRequest(operator="~"), http, JobContext())
