"""The Octane sandbox speaks the wire protocol: auth and sessions, collections, paging, writes, errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests

from almdesk.base.fields import parse_fields
from almdesk.sandbox.base import Faults, SandboxServer, serve
from almdesk.sandbox.octane import ADMIN_USER, API_KEY, NOACCESS_KEY, READONLY_KEY, create
from almdesk.systems.octane import SYSTEM
from tests.clock import ManualClock
from tests.octane.conftest import app_of

WS = "/api/shared_spaces/1001/workspaces/1002"


def signed_in(server: SandboxServer, key: tuple[str, str] = API_KEY) -> requests.Session:
    s = requests.Session()
    r = s.post(server.url + "/authentication/sign_in", json={"client_id": key[0], "client_secret": key[1]})
    assert r.status_code == 200, r.text
    return s


def get(s: requests.Session, server: SandboxServer, path: str, **params: Any) -> requests.Response:
    return s.get(server.url + path, params=params)


def test_version_needs_no_auth_and_api_needs_it(shared_server: SandboxServer) -> None:
    r = requests.get(shared_server.url + "/admin/server/version")
    assert r.status_code == 200 and r.json()["display_version"]
    r = requests.get(shared_server.url + WS + "/defects")
    assert r.status_code == 401
    assert set(r.json()) >= {"error_code", "correlation_id", "description", "description_translated"}


def test_sign_in_sets_lwsso_cookie_and_wrong_secret_is_401(shared_server: SandboxServer) -> None:
    s = signed_in(shared_server)
    assert s.cookies.get("LWSSO_COOKIE_KEY")
    assert s.cookies.get("OCTANE_USER") == API_KEY[0]
    r = requests.post(shared_server.url + "/authentication/sign_in",
                      json={"client_id": API_KEY[0], "client_secret": "wrong"})
    assert r.status_code == 401
    assert "LWSSO_COOKIE_KEY" not in r.cookies


def test_user_password_sign_in_and_sign_out(shared_server: SandboxServer) -> None:
    s = requests.Session()
    r = s.post(shared_server.url + "/authentication/sign_in", json={"user": ADMIN_USER[0], "password": ADMIN_USER[1]})
    assert r.status_code == 200
    token = s.cookies.get("LWSSO_COOKIE_KEY")
    assert get(s, shared_server, WS + "/releases").status_code == 200
    assert s.post(shared_server.url + "/authentication/sign_out").status_code == 200
    r = requests.get(shared_server.url + WS + "/releases", cookies={"LWSSO_COOKIE_KEY": token or ""})
    assert r.status_code == 401


def test_idle_and_global_expiry_codes(make_server: Callable[..., SandboxServer]) -> None:
    clock = ManualClock()
    server = make_server(idle_timeout=0.3, global_timeout=60, clock=clock)
    s = signed_in(server)
    clock.advance(0.25)
    assert get(s, server, WS + "/releases").status_code == 200  # within the idle time: the session lives on
    clock.advance(0.25)
    assert get(s, server, WS + "/releases").status_code == 200  # each request restarts the idle time
    clock.advance(0.5)
    r = get(s, server, WS + "/releases")
    assert r.status_code == 401
    assert r.json()["error_code"] == "VALIDATION_TOKEN_EXPIRED_IDLE_TIME_OUT"
    clock2 = ManualClock()
    server2 = make_server(idle_timeout=60, global_timeout=0.3, clock=clock2)
    s2 = signed_in(server2)
    clock2.advance(0.2)
    assert get(s2, server2, WS + "/releases").status_code == 200
    clock2.advance(0.2)  # busy, but past the global time-out
    r = get(s2, server2, WS + "/releases")
    assert r.json()["error_code"] == "VALIDATION_TOKEN_EXPIRED_GLOBAL_TIME_OUT"


def test_cookie_renewal_is_picked_up_and_old_cookie_dies_after_grace(make_server: Callable[..., SandboxServer]) -> None:
    clock = ManualClock()
    server = make_server(renew_after=0.0, renew_grace=0.2, clock=clock)
    s = signed_in(server)
    first = s.cookies.get("LWSSO_COOKIE_KEY")
    clock.advance(0.01)
    r = get(s, server, WS + "/releases")
    assert r.status_code == 200
    renewed = s.cookies.get("LWSSO_COOKIE_KEY")
    assert renewed and renewed != first
    clock.advance(0.1)  # within the grace the old value still works
    assert requests.get(server.url + WS + "/releases", cookies={"LWSSO_COOKIE_KEY": first or ""}).status_code == 200
    clock.advance(0.2)
    stale = requests.get(server.url + WS + "/releases", cookies={"LWSSO_COOKIE_KEY": first or ""})
    assert stale.status_code == 401
    assert get(s, server, WS + "/releases").status_code == 200


def test_workspaces_listing_respects_roles(shared_server: SandboxServer) -> None:
    s = signed_in(shared_server, NOACCESS_KEY)
    ids = [w["id"] for w in get(s, shared_server, "/api/shared_spaces/1001/workspaces", fields="name").json()["data"]]
    assert ids == ["1003"]
    r = get(s, shared_server, WS)
    assert r.status_code == 403
    assert get(s, shared_server, "/api/shared_spaces/1001/workspaces/1999").status_code == 404
    assert get(s, shared_server, "/api/shared_spaces/1002/workspaces").status_code == 404
    assert get(s, shared_server, "/api/shared_spaces/2001/workspaces").status_code == 403


def test_paging_total_count_and_limits(shared_server: SandboxServer) -> None:
    s = signed_in(shared_server)
    first = get(s, shared_server, WS + "/defects", limit=10, offset=0, fields="name").json()
    second = get(s, shared_server, WS + "/defects", limit=10, offset=10, fields="name").json()
    assert first["total_count"] == second["total_count"] == 90
    assert first["exceeds_total_count"] is False
    assert len(first["data"]) == 10
    assert {d["id"] for d in first["data"]}.isdisjoint(d["id"] for d in second["data"])
    assert set(first["data"][0]) == {"type", "id", "name"}
    assert first["data"][0]["type"] == "defect"
    assert get(s, shared_server, WS + "/defects", limit=0).status_code == 400
    assert get(s, shared_server, WS + "/defects", limit=2001).status_code == 400
    assert get(s, shared_server, WS + "/defects", fields="nonsense").json()["error_code"] == "platform.unknown_field"
    desc = get(s, shared_server, WS + "/defects", order_by="-id", limit=3).json()["data"]
    assert [int(d["id"]) for d in desc] == sorted((int(d["id"]) for d in desc), reverse=True)


def test_query_with_references_logical_names_and_wildcards(shared_server: SandboxServer) -> None:
    s = signed_in(shared_server)
    everything = get(s, shared_server, WS + "/defects", limit=1000, fields="phase,severity,release").json()["data"]
    expected = [d for d in everything if d["phase"]["id"] in ("phase.defect.new", "phase.defect.opened")
                and d["release"]["id"] == "1001"]
    statement = ('"release EQ {id EQ 1001};((phase EQ {id EQ ^phase.defect.new^})||'
                 '(phase EQ {logical_name EQ \'phase.defect.opened\'}))"')
    r = get(s, shared_server, WS + "/defects", query=statement, limit=1).json()
    assert r["total_count"] == len(expected) > 0
    phases = get(s, shared_server, WS + "/phases", query='"logical_name EQ ^phase.defect.*^"').json()
    assert phases["total_count"] == 8  # Octane's eight default defect phases
    by_entity = get(s, shared_server, WS + "/phases", query='"entity EQ ^defect^"').json()
    assert by_entity["total_count"] == 8
    nodes = get(s, shared_server, WS + "/list_nodes", query='"list_root={logical_name = ^list_node.severity^ }"').json()
    assert {n["id"] for n in nodes["data"]} >= {"list_node.severity.high", "list_node.severity.urgent"}
    root = get(s, shared_server, WS + "/work_items", query="\"subtype EQ 'work_item_root'\"").json()
    assert root["total_count"] == 1 and root["data"][0]["type"] == "work_item_root"
    bad = get(s, shared_server, WS + "/defects", query='"name EQ ^unclosed"')
    assert bad.status_code == 400 and bad.json()["error_code"] == "platform.query_parse_error"
    nulls = get(s, shared_server, WS + "/defects", query='"item_origin EQ {null}"', limit=1).json()
    assert nulls["total_count"] == 90


def test_create_defaults_to_draft_and_bulk_partial_success(server: SandboxServer) -> None:
    s = signed_in(server)
    r = s.post(server.url + WS + "/defects", params={"fields": "name,is_draft,phase,parent"},
               json={"data": [{"name": "A draft"}]})
    assert r.status_code == 201
    created = r.json()["data"][0]
    assert created["is_draft"] is True
    assert created["phase"]["id"] == "phase.defect.new"
    assert created["parent"] == {"type": "work_item_root", "id": "1001", "name": "Backlog"}
    body = {"data": [{"name": "ok", "is_draft": False, "severity": {"type": "list_node", "id": "list_node.severity.low"}},
                     {"name": "no severity", "is_draft": False},
                     {"name": "bad phase", "phase": {"type": "phase", "id": "phase.story.done"}},
                     {"name": "ok 2"}]}
    r = s.post(server.url + WS + "/defects", json=body)
    assert r.status_code == 409
    out = r.json()
    assert [e["index"] for e in out["errors"]] == [1, 2]
    assert [d["name"] for d in out["data"]] == ["ok", "ok 2"]


def test_update_single_and_bulk_and_read_only_fields(server: SandboxServer) -> None:
    s = signed_in(server)
    ident = s.post(server.url + WS + "/defects", json={"data": [{"name": "x"}]}).json()["data"][0]["id"]
    r = s.put(server.url + WS + f"/defects/{ident}", json={"phase": {"type": "phase", "id": "phase.defect.opened"}},
              params={"fields": "phase,version_stamp"})
    assert r.status_code == 200 and r.json()["phase"]["id"] == "phase.defect.opened"
    assert r.json()["version_stamp"] == 2
    r = s.put(server.url + WS + f"/defects/{ident}", json={"creation_time": "2020-01-01T00:00:00Z"})
    assert r.status_code == 403 and r.json()["error_code"] == "platform.modify_non_editable_field"
    r = s.put(server.url + WS + "/defects", json={"data": [{"id": ident, "name": "renamed"}, {"id": "999999"}]})
    assert r.status_code == 409 and r.json()["errors"][0]["index"] == 1
    assert s.get(server.url + WS + f"/defects/{ident}").json()["name"] == "renamed"
    assert s.delete(server.url + WS + f"/defects/{ident}").status_code == 200
    assert s.get(server.url + WS + f"/defects/{ident}").status_code == 404


def test_read_only_key_cannot_create(shared_server: SandboxServer) -> None:
    s = signed_in(shared_server, READONLY_KEY)
    assert get(s, shared_server, WS + "/defects", limit=1).status_code == 200
    r = s.post(shared_server.url + WS + "/defects", json={"data": []})
    assert r.status_code == 403 and r.json()["error_code"] == "platform.forbidden"


def test_entity_navigation_redirects_to_the_entity_route(shared_server: SandboxServer) -> None:
    r = requests.get(shared_server.url + "/ui/entity-navigation?p=1001/1002&entityType=work_item&id=2005",
                     allow_redirects=False)
    assert r.status_code == 302
    assert r.headers["Location"].endswith("/ui/?p=1001/1002#/entity-navigation?entityType=work_item&id=2005")
    assert requests.get(r.headers["Location"]).status_code == 200


def test_faults_spare_sign_in_and_expire_kills_sessions() -> None:
    app = create(seed=1, defects=20, stories=5)
    server = serve(app, faults=Faults.parse("500:1.0", seed=1))
    try:
        s = signed_in(server)  # sign-in is exempt even at a 100 % fault rate
        assert get(s, server, WS + "/releases").status_code == 500
        app.faults = None
        app.expire_sessions()
        r = get(s, server, WS + "/releases")
        assert r.json()["error_code"] == "VALIDATION_TOKEN_EXPIRED_GLOBAL_TIME_OUT"
    finally:
        server.stop()


def test_describe_gives_working_connector_and_connection_params(shared_server: SandboxServer) -> None:
    info = shared_server.describe()
    assert info["system"] == "octane" and info["url"] == shared_server.url
    connector_names = {f.name for f in SYSTEM.connector_fields}
    assert set(info["params"]) | set(info["secrets"]) == connector_names
    assert set(info["secrets"]) == {"client_secret"}
    assert set(info["connection_params"]) <= {f.name for f in SYSTEM.connection_fields}
    parse_fields(SYSTEM.connector_fields, info["params"])
    parse_fields(SYSTEM.connection_fields, info["connection_params"])
    assert app_of(shared_server).sign_ins >= 0
