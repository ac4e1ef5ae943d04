"""Priorities through the endpoint each deployment keeps: Cloud pages ``priority/search`` (its plain
``GET priority`` is deprecated and gone from the sandbox, as the spec marks it), Data Center reads
``GET priority``; a gate by severity works on both."""

from __future__ import annotations

import requests

from almdesk.base.records import GateRequest
from almdesk.jobs.context import JobContext
from almdesk.net.session import HttpFactory
from almdesk.sandbox.base import SandboxServer
from almdesk.systems.jira import SYSTEM
from almdesk.systems.jira.client import JiraClient
from tests.jira.conftest import app_of, connection_for, connector_for


def test_cloud_has_no_plain_priority_list(cloud: SandboxServer) -> None:
    r = requests.get(cloud.url + "/rest/api/3/priority", timeout=10,
                     auth=(connector_for(cloud).params["user"], connector_for(cloud).secret("token")))
    assert r.status_code == 404


def test_priorities_and_a_severity_gate_on_each_deployment(jira: SandboxServer, http: HttpFactory,
                                                           ctx: JobContext) -> None:
    connector = connector_for(jira)
    client = JiraClient(connector, http, ctx)
    client.server_info()
    names = [str(p["name"]) for p in client.priorities("10000")]
    expected = [name for _, name in app_of(jira).data.priorities]
    assert names == expected and len(names) >= 5
    paths = {path.split("?")[0] for _, path, _ in app_of(jira).log}
    assert any(p.endswith("/priority/search") for p in paths) is client.cloud
    result = SYSTEM.gate(connection_for(connector, jira), GateRequest(severities=[expected[0]], threshold=100),
                         http, ctx)
    assert expected[0] in result.query and result.passed
