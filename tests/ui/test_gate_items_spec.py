"""``services.specs.gate_items_spec`` (what the gate panel's page of matching items is to come from) against
a real Octane sandbox over loopback HTTP: the same items as the gate's own run, paged by offset."""

from __future__ import annotations

import pytest

from almdesk.base.records import GateItem, GateRequest
from almdesk.errors import ConfigError
from almdesk.services import Services
from almdesk.services.actions import GateReport
from almdesk.services.specs import gate_items_spec
from tests.ui.conftest import OctaneEnv


def test_gate_items_spec_reads_the_gates_items_page_by_page(services: Services, octane: OctaneEnv) -> None:
    request = GateRequest(release="Release 24.2", threshold=0)
    gate = services.run(services.gate_spec(request, connection=octane.connection_id))
    count = int(gate.outcome.data["count"])
    assert isinstance(gate.outcome.payload, GateReport) and count > 3
    spec = gate_items_spec(services, request, octane.connection_id, None, offset=0, limit=2)
    assert (spec.kind, spec.title) == ("gate-items", "Gate items 1–2 on octane-shop")
    assert (spec.connector_id, spec.connection_id) == (octane.connector_id, octane.connection_id)
    first = services.run(spec)
    items = first.outcome.payload
    assert first.state == "succeeded" and isinstance(items, list) and len(items) == 2
    assert all(isinstance(i, GateItem) and i.url.startswith(octane.server.url) for i in items)
    more = services.run(gate_items_spec(services, request, octane.connection_id, None, offset=2, limit=2)).outcome
    assert isinstance(more.payload, list) and len(more.payload) == 2
    assert {i.key for i in items}.isdisjoint(i.key for i in more.payload)
    assert more.message == "Read 2 matching item(s) from #3."


def test_gate_items_spec_needs_a_connection_or_a_connector(services: Services) -> None:
    with pytest.raises(ConfigError):
        gate_items_spec(services, GateRequest(), None, None, offset=0, limit=10)
