"""The Octane sandbox is as strict as Octane: media types (415/406), the metadata API, the eight default
defect phases (one under a random id in workspace 1003), and phase changes that follow the workflow.
Plain HTTP over loopback, and almdesk's adapter through a workspace whose Rejected phase has a random id."""

from __future__ import annotations

import requests

from almdesk.base.records import ItemDraft, RemoteItem
from almdesk.jobs.context import JobContext
from almdesk.net.session import HttpFactory
from almdesk.sandbox.base import SandboxServer
from almdesk.systems.octane import SYSTEM
from tests.octane.conftest import app_of, connection_for, connector_for
from tests.octane.test_sandbox import WS, get, signed_in

PAYMENTS = "/api/shared_spaces/1001/workspaces/1003"
DEFAULT_PHASES = {"new", "deferred", "opened", "fixed", "proposeclose", "closed", "duplicate", "rejected"}


def test_bodies_must_be_json_and_answers_json(shared_server: SandboxServer) -> None:
    s = signed_in(shared_server)
    url = shared_server.url + WS + "/defects"
    assert s.post(url, data='{"data": [{"name": "x"}]}', headers={"Content-Type": "text/plain"}).status_code == 415
    assert s.post(url, data={"name": "x"}).status_code == 415  # form-encoded
    no_type = requests.Request("POST", url, data=b'{"data": []}').prepare()
    no_type.headers.pop("Content-Type", None)
    no_type.prepare_cookies(s.cookies)
    r = s.send(no_type)
    assert r.status_code == 415 and r.json()["error_code"] == "platform.unsupported_media_type"
    r = s.get(url, headers={"Accept": "application/xml"})
    assert r.status_code == 406 and r.json()["error_code"] == "platform.not_acceptable"
    assert s.get(url, headers={"Accept": "application/json"}, params={"limit": 1}).status_code == 200
    assert s.get(url, headers={"Accept": "*/*"}, params={"limit": 1}).status_code == 200


def test_metadata_entities_and_required_fields(shared_server: SandboxServer) -> None:
    s = signed_in(shared_server)
    r = get(s, shared_server, WS + "/metadata/entities", query="\"name EQ 'defect'\"").json()
    assert r["total_count"] == 1
    features = {f["name"]: f for f in r["data"][0]["features"]}
    assert features["hierarchy"]["root"] == {"type": "work_item_root", "id": "1001"}
    assert "work_item_root" in features["hierarchy"]["parent_types"]
    assert {"drafts", "phases", "rest", "subtype_of"} <= set(features)
    assert features["subtype_of"]["type"] == "work_item"
    feature = get(s, shared_server, WS + "/metadata/entities", query="\"name EQ 'feature'\"").json()["data"][0]
    assert "drafts" not in {f["name"] for f in feature["features"]}
    required = get(s, shared_server, WS + "/metadata/fields",
                   query="\"entity_name EQ 'defect'; required EQ true\"").json()
    assert {f["name"] for f in required["data"]} == {"name", "phase", "parent", "severity"}
    assert all(f["entity_name"] == "defect" and f["required"] is True for f in required["data"])
    bad = get(s, shared_server, WS + "/metadata/fields", query="\"entity_name EQ 'defect'||required EQ true\"")
    assert bad.status_code == 400
    assert get(s, shared_server, WS + "/metadata/entities", limit=1).status_code == 400


def test_eight_default_defect_phases_one_under_a_random_id(shared_server: SandboxServer) -> None:
    s = signed_in(shared_server)
    query = "\"entity EQ 'defect'\""
    default = get(s, shared_server, WS + "/phases", query=query, fields="name,logical_name").json()["data"]
    assert {p["id"].removeprefix("phase.defect.") for p in default} == DEFAULT_PHASES
    payments = get(s, shared_server, PAYMENTS + "/phases", query=query, fields="name,logical_name").json()["data"]
    rejected = next(p for p in payments if p["name"] == "Rejected")
    assert not rejected["id"].startswith("phase.") and len(rejected["id"]) == 25
    assert len(payments) == 8 and sum(p["id"].startswith("phase.defect.") for p in payments) == 7
    # the seeded defects cover every phase
    store = app_of(shared_server).site.workspaces["1002"].of_type("work_item")
    seen = {d["phase"]["id"] for d in store.values() if d["subtype"] == "defect"}
    assert {p["id"] for p in default} <= seen


def test_phase_changes_follow_the_workflow(server: SandboxServer) -> None:
    s = signed_in(server)
    url = server.url + WS + "/defects"
    ident = s.post(url, json={"data": [{"name": "walk me", "severity": {"type": "list_node",
                                                                         "id": "list_node.severity.low"}}]}
                   ).json()["data"][0]["id"]
    r = s.put(f"{url}/{ident}", json={"phase": {"type": "phase", "id": "phase.defect.closed"}})
    assert r.status_code == 400 and r.json()["error_code"] == "platform.workflow_transition_not_allowed"
    assert "Opened" in r.json()["description"]
    steps = get(s, server, WS + "/transitions", query="\"entity EQ 'defect'\"", limit=100,
                fields="source_phase,target_phase").json()["data"]
    assert ("phase.defect.new", "phase.defect.closed") not in {(t["source_phase"]["id"], t["target_phase"]["id"])
                                                               for t in steps}
    for phase in ("opened", "fixed", "proposeclose", "closed"):
        r = s.put(f"{url}/{ident}", json={"phase": {"type": "phase", "id": f"phase.defect.{phase}"}})
        assert r.status_code == 200, r.text


def test_adapter_walks_the_workflow_in_a_workspace_with_a_random_rejected(server: SandboxServer, http: HttpFactory,
                                                                          ctx: JobContext) -> None:
    """Defaults (done phases Closed/Rejected/Duplicate) resolve although Rejected has a random id there,
    and closing walks New → … → Closed; reopening goes Closed → Opened in one step."""
    connection = connection_for(connector_for(server), server, workspace="1003", done_phases="")
    adapter = SYSTEM.sync_adapter(connection, http, ctx)
    adapter.prepare()
    done = ItemDraft(task_id="T7", title="T7: walk", text="x", priority=8, tags=[], done=True)
    out = adapter.create_items([done])
    assert isinstance(out[0], RemoteItem) and out[0].done and out[0].status == "Closed", out
    opened = adapter.set_done(out[0], False)
    assert not opened.done and opened.status == "Opened"
    closed = adapter.set_done(opened, True)
    assert closed.done and closed.status == "Closed"
    adapter.close()
