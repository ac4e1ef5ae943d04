"""Robustness under the sandbox's fault injection (DESIGN §5) and paging invariants (property test)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from almdesk.base.records import GateRequest, ItemDraft, RemoteItem
from almdesk.base.settings import NetworkSettings
from almdesk.jobs.context import JobContext
from almdesk.net.session import HttpFactory
from almdesk.sandbox.base import Faults, SandboxServer, serve
from almdesk.sandbox.octane import API_KEY, create
from almdesk.systems.octane import SYSTEM
from tests.octane.conftest import app_of, connection_for, connector_for, stop_later

WS = "/api/shared_spaces/1001/workspaces/1002"


@pytest.fixture
def faulty() -> Iterator[SandboxServer]:
    faults = Faults.parse("500:0.06,502:0.03,429:0.05,reset:0.04,expire:0.04", seed=11, retry_after=0)
    server = serve(create(seed=2, defects=150, stories=10), faults=faults)
    yield server
    stop_later(server)


def test_gate_and_listing_survive_faults(faulty: SandboxServer) -> None:
    http = HttpFactory(NetworkSettings(timeout=10), retries=4, backoff=0.01)
    ctx = JobContext()
    connection = connection_for(connector_for(faulty), faulty)
    for _ in range(3):
        result = SYSTEM.gate(connection, GateRequest(release="Release 24.1", phases=["New"], threshold=1000,
                                                     operator="<="), http, ctx)
        assert result.passed
    adapter = SYSTEM.sync_adapter(connection, http, ctx)
    adapter.page_size = 30
    for _ in range(3):
        assert len(list(adapter.iter_items())) == 150
    adapter.close()
    app = app_of(faulty)
    assert app.faults is not None and sum(app.faults.counts.values()) > 5
    assert app.faults.counts.get("expire", 0) >= 1  # expiries happened and were handled by signing in again
    assert app.sign_ins > 4


def test_creates_under_faults_never_duplicate(faulty: SandboxServer) -> None:
    http = HttpFactory(NetworkSettings(timeout=10), retries=4, backoff=0.01)
    connection = connection_for(connector_for(faulty), faulty)
    adapter = SYSTEM.sync_adapter(connection, http, JobContext())
    created: list[RemoteItem] = []
    failed = 0
    for batch in range(6):
        out = adapter.create_items([ItemDraft(f"T{batch}{i}", f"ALMD-T{batch}{i}: x", "", 5, [], False) for i in range(5)])
        created += [o for o in out if isinstance(o, RemoteItem)]
        failed += sum(isinstance(o, Exception) for o in out)
    adapter.close()
    names = [e["name"] for e in app_of(faulty).site.workspaces["1002"].of_type("work_item").values()
             if str(e["name"]).startswith("ALMD-")]
    assert len(names) == len(set(names)) == len(created)  # every create reported is there exactly once
    assert len(created) + failed == 30


@pytest.fixture(scope="module")
def paged() -> Iterator[tuple[SandboxServer, requests.Session, list[str]]]:
    server = serve(create(seed=4, defects=57, stories=3))
    s = requests.Session()
    s.post(server.url + "/authentication/sign_in", json={"client_id": API_KEY[0], "client_secret": API_KEY[1]})
    everything = [d["id"] for d in s.get(server.url + WS + "/defects", params={"limit": 2000}).json()["data"]]
    yield server, s, everything
    stop_later(server)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(limit=st.integers(1, 70), order=st.sampled_from(["id", "-id", "name,id", "-creation_time,id"]))
def test_pages_partition_the_collection(paged: tuple[SandboxServer, requests.Session, list[str]], limit: int,
                                        order: str) -> None:
    server, s, everything = paged
    seen: list[str] = []
    offset = 0
    while True:
        body = s.get(server.url + WS + "/defects", params={"limit": limit, "offset": offset, "order_by": order,
                                                           "fields": "name"}).json()
        assert body["total_count"] == len(everything)
        seen += [d["id"] for d in body["data"]]
        offset += limit
        if offset >= body["total_count"]:
            break
    assert sorted(seen) == sorted(everything) and len(seen) == len(set(seen))
