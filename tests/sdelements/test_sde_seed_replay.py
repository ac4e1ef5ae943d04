"""The seed's (``seeds/002_…``, SD Elements' ALM API docs) request/response examples replayed
against the sandbox: the documented status codes, and the documented shapes.

Where the seed's examples contradict each other (connection 1 is "rally" but uses connector 2, a
JIRA connector; a create answers ``id`` 1 while id 1 exists; a PATCH of connector 3 answers id 12;
the single-connection GET shows ``system`` without ``short_name``), the sandbox keeps one rule and
these tests check keys, types and the values the seed is consistent about.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from almdesk.sandbox.base import SandboxServer, serve
from almdesk.sandbox.sdelements import create
from tests.sdelements.conftest import Api

DATA = Path(__file__).parent.parent / "admin" / "data"


def seed(name: str) -> Any:
    return json.loads((DATA / f"seed_{name}.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def fresh() -> Iterator[SandboxServer]:
    server = serve(create(seed=11))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def admin(fresh: SandboxServer) -> Iterator[Api]:
    client = Api(fresh.url, fresh.describe()["secrets"]["api_token"])
    yield client
    client.session.close()


def keys(value: Any) -> Any:
    """The nested key structure of a JSON value (dict keys, recursively; list items' union)."""
    if isinstance(value, dict):
        return {k: keys(v) for k, v in value.items()}
    if isinstance(value, list):
        merged: dict[str, Any] = {}
        for item in value:
            k = keys(item)
            if isinstance(k, dict):
                merged.update(k)
        return [merged] if merged else []
    return type(value).__name__


def test_get_connectors_is_the_seed(admin: Api) -> None:
    response = admin("GET", "connectors/alm/")
    assert response.status_code == 200
    assert response.json()["results"] == seed("get_connectors")["results"]
    one = admin("GET", "connectors/alm/1/")
    assert one.status_code == 200 and one.json() == seed("get_connector")


def test_get_connections_is_the_seed(admin: Api) -> None:
    listed = admin("GET", "connections/alm/")
    assert listed.status_code == 200
    ours, theirs = listed.json()["results"][0], seed("get_connections")["results"][0]
    assert ours == theirs
    with_job = admin("GET", "connections/alm/", params={"include": "last_job"}).json()["results"][0]
    documented = seed("get_connections_last_job")["results"][0]
    assert with_job["last_job"] == documented["last_job"]
    assert list(with_job) == list(documented)  # same keys, same order
    single = admin("GET", "connections/alm/1/")
    assert single.status_code == 200
    doc_single = seed("get_connection")
    assert set(single.json()) == set(doc_single)
    assert single.json()["params"] == doc_single["params"]
    assert single.json()["system"]["id"] == doc_single["system"]["id"]


def test_post_and_patch_connector(admin: Api) -> None:
    created = admin("POST", "connectors/alm/", json=seed("post_connector"))
    assert created.status_code == 201
    body = created.json()
    documented = seed("get_connector")  # the documented 201 answer equals the GET shape
    assert keys(body) == keys(documented)
    assert {k: v for k, v in body.items() if k != "id"} == {k: v for k, v in documented.items() if k != "id"}
    patched = admin("PATCH", f"connectors/alm/{body['id']}/", json=seed("patch_connector"))
    assert patched.status_code == 200
    assert patched.json()["name"] == "GitHub Connector PATCH Example"
    assert patched.json()["params"]["sde_min_priority"] == "5"
    assert patched.json()["system"] == {"id": "github", "short_name": "GitHub", "name": "GitHub"}
    missing = admin("POST", "connectors/alm/", json={"name": "x"})
    assert missing.status_code == 400 and set(missing.json()) == {"system", "params"}


def test_post_and_patch_connection(admin: Api) -> None:
    request = seed("post_connection_request")
    created = admin("POST", "connections/alm/", json=request)
    assert created.status_code == 201
    body, documented = created.json(), seed("post_connection_response")
    assert body["id"] == documented["id"] == 5
    assert set(body) == set(documented)
    assert body["params"]["alm_reference_context"] == 5
    assert body["params"]["alm_project"] == "Example Project" and body["params"]["alm_parent_issue"] == "Parent"
    assert {"sde_project", "sde_application", "sde_businessunit"} <= set(body["params"])
    assert body["frequency"] == "hourly" and body["debug_mode"] is True and body["project"] == 1
    assert body["command"] == f"sync_{body['system']['id']}"
    patched = admin("PATCH", "connections/alm/5/", json=seed("patch_connection_request")
                    if (DATA / "seed_patch_connection_request.json").exists() else
                    {"alias": "Example Connection Updated Name", "connector": 1, "project": 1,
                     "frequency": "manually", "params": {"alm_project": "Project Name"}})
    assert patched.status_code == 200
    doc_patched = seed("patch_connection_response")
    assert set(patched.json()) == set(doc_patched)
    assert patched.json()["alias"] == doc_patched["alias"] and patched.json()["frequency"] == "manually"
    assert patched.json()["params"]["alm_project"] == "Project Name"
    assert patched.json()["params"]["alm_parent_issue"] == "Parent"  # PATCH merges params


def test_testalm_answers_success(admin: Api) -> None:
    connector_body = {"name": "ALM Test", "system": {"id": "github"},
                      "params": {"alm_server": "api.github.com", "github_repo_owner": "repo owner",
                                 "alm_api_token": "42", "alm_validate_cert": True}}
    tested = admin("POST", "connectors/testalm/", json=connector_body)
    assert (tested.status_code, tested.json()) == (200, {"success": True})
    conn = admin("POST", "connections/testalm/", json=seed("test_connection_request"))
    assert (conn.status_code, conn.json()) == (200, {"success": True})
    assert admin("POST", "connectors/testalm/", json={"name": "x"}).status_code == 400
