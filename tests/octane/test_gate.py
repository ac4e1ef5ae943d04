"""The Octane Gate: operator table, one count request whatever matches, names resolved or listed."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from almdesk.base.records import GateRequest, GateResult, normalize_operator
from almdesk.errors import ConfigError
from almdesk.jobs.context import JobContext
from almdesk.net.session import HttpFactory
from almdesk.sandbox.base import SandboxServer
from almdesk.sandbox.octane import API_KEY
from almdesk.systems.octane import SYSTEM
from tests.octane.conftest import app_of, connection_for, connector_for

WS = "/api/shared_spaces/1001/workspaces/1002"

# operator, count, threshold, passes — XL Release's LT/GT/EQ mean <=, >=, =
TABLE = [
    ("<", 0, 1, True), ("<", 1, 1, False), ("<", 2, 1, False),
    ("<=", 0, 1, True), ("<=", 1, 1, True), ("<=", 2, 1, False),
    ("=", 0, 0, True), ("=", 1, 0, False), ("==", 3, 3, True),
    (">=", 0, 1, False), (">=", 1, 1, True), (">=", 5, 1, True),
    (">", 1, 1, False), (">", 2, 1, True), (">", 0, 0, False),
    ("LT", 3, 5, True), ("LT", 5, 5, True), ("LT", 6, 5, False),
    ("GT", 4, 5, False), ("GT", 5, 5, True), ("GT", 9, 5, True),
    ("EQ", 5, 5, True), ("EQ", 4, 5, False), ("lt", 0, 0, True),
]


@pytest.mark.parametrize(("op", "count", "threshold", "passes"), TABLE)
def test_operator_table(op: str, count: int, threshold: int, passes: bool) -> None:
    result = GateResult(count=count, threshold=threshold, operator=normalize_operator(op), query="q")
    assert result.passed is passes
    assert ("passed" if passes else "failed") in result.message


def ground_truth(server: SandboxServer, release: str, phases: set[str], severities: set[str]) -> list[str]:
    s = requests.Session()
    s.post(server.url + "/authentication/sign_in", json={"client_id": API_KEY[0], "client_secret": API_KEY[1]})
    data = s.get(server.url + WS + "/defects", params={"limit": 2000, "fields": "phase,severity,release"}).json()
    return [d["id"] for d in data["data"] if d["release"] and d["release"]["id"] == release
            and (not phases or d["phase"]["id"] in phases)
            and (not severities or (d["severity"] or {}).get("id") in severities)]


def defect_gets(server: SandboxServer, since: int) -> int:
    return sum(1 for method, path, _ in app_of(server).log[since:]
               if method == "GET" and path.startswith(WS + "/defects"))


@pytest.mark.parametrize(("phases", "severities", "phase_ids", "severity_ids"), [
    (["New", "opened"], ["High", "Critical"], {"phase.defect.new", "phase.defect.opened"},
     {"list_node.severity.high", "list_node.severity.urgent"}),
    ([], [], set(), set()),
    (["phase.defect.closed"], ["list_node.severity.low", "Medium"], {"phase.defect.closed"},
     {"list_node.severity.low", "list_node.severity.medium"}),
])
def test_gate_counts_with_one_request(shared_server: SandboxServer, http: HttpFactory, ctx: JobContext,
                                      phases: list[str], severities: list[str], phase_ids: set[str],
                                      severity_ids: set[str]) -> None:
    expected = ground_truth(shared_server, "1001", phase_ids, severity_ids)
    connection = connection_for(connector_for(shared_server), shared_server)
    mark = len(app_of(shared_server).log)
    result = SYSTEM.gate(connection, GateRequest(release="Release 24.1", phases=phases, severities=severities,
                                                 threshold=len(expected), operator="<="), http, ctx)
    assert result.count == len(expected)
    assert result.passed
    assert defect_gets(shared_server, mark) == 1
    assert "release 'Release 24.1'" in result.query
    assert result.requests >= 3
    assert result.items is not None
    first = result.items(0, 7)
    rest = result.items(7, 1000)
    assert [i.id for i in first + rest] == sorted(expected, key=int)
    assert first and first[0].url.endswith(f"/ui/entity-navigation?p=1001/1002&entityType=work_item&id={first[0].id}")


def test_gate_with_many_matches_is_still_one_count_request(make_server: Any, http: HttpFactory,
                                                           ctx: JobContext) -> None:
    server = make_server(defects=600)
    connection = connection_for(connector_for(server), server)
    mark = len(app_of(server).log)
    result = SYSTEM.gate(connection, GateRequest(release="Release 24.2", threshold=0, operator="="), http, ctx)
    assert result.count > 100
    assert not result.passed
    assert defect_gets(server, mark) == 1


def test_gate_fails_when_count_exceeds_threshold(shared_server: SandboxServer, http: HttpFactory,
                                                 ctx: JobContext) -> None:
    connection = connection_for(connector_for(shared_server), shared_server)
    result = SYSTEM.gate(connection, GateRequest(release="Release 24.1", threshold=0, operator="LT"), http, ctx)
    assert result.count > 0 and result.operator == "<=" and not result.passed


@pytest.mark.parametrize(("request_", "field", "message", "hint_part"), [
    (GateRequest(release="Release 9"), "release", "No release named 'Release 9' in workspace 1002.", "Release 24.1"),
    (GateRequest(release="Maintenance"), "release", "2 releases in workspace 1002 are named 'Maintenance'",
     "Rename the duplicates"),
    (GateRequest(release=""), "release", "Release is required.", "release"),
    (GateRequest(release="Release 24.1", phases=["New", "Shipped", "Nope"]), "phases",
     "Unknown defect phase: Shipped, Nope.", "Deferred"),
    (GateRequest(release="Release 24.1", severities=["Blocker"]), "severities", "Unknown severity: Blocker.",
     "Very High (list_node.severity.very_high)"),
    (GateRequest(release="Release 24.1", operator="~"), "operator", "Operator '~' is not known.", "LT"),
    (GateRequest(release="Release 24.1", threshold=-1), "threshold", "Threshold is -1.", "positive"),
])
def test_gate_configuration_errors(shared_server: SandboxServer, http: HttpFactory, ctx: JobContext,
                                   request_: GateRequest, field: str, message: str, hint_part: str) -> None:
    connection = connection_for(connector_for(shared_server), shared_server)
    with pytest.raises(ConfigError) as info:
        SYSTEM.gate(connection, request_, http, ctx)
    assert info.value.field == field
    assert info.value.message.startswith(message)
    assert hint_part in info.value.hint


def test_gate_release_with_special_characters_and_workspace_override(shared_server: SandboxServer,
                                                                     http: HttpFactory, ctx: JobContext) -> None:
    connection = connection_for(connector_for(shared_server), shared_server)
    name = "R&D (beta); 'Q3' ^x^ || \"y\""
    result = SYSTEM.gate(connection, GateRequest(release=name, threshold=0, operator="="), http, ctx)
    assert result.count == 0 and result.passed  # no defects are planned in it
    other = SYSTEM.gate(connection, GateRequest(release="release 24.1", workspace="1003", operator=">=",
                                                threshold=1), http, ctx)
    assert other.count > 0 and other.passed
