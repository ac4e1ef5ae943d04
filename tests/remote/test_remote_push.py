"""``almdesk remote plan`` and ``push`` over real HTTP: per-field plans with secrets as changed/unchanged,
idempotent pushes in the seed's shapes, new connections, deletions only when confirmed, a refusal
naming the field, and a 5xx part-way that leaves the plan saying what is left."""

from __future__ import annotations

import json

import pytest

from almdesk.remote.pull import pull
from almdesk.remote.push import push
from almdesk.sandbox.sdelements.drf import ApiError
from almdesk.services import Services
from tests.remote.conftest import CANARIES, Env


def _edit(env: Env) -> None:
    cfg = env.services.config
    info = cfg.connection("Example Connection")
    cfg.save_connection(info.alias, info.connector, info.project,
                        {**info.params, "sde_min_priority": 5, "alm_project": "NEWKEY"}, frequency="daily",
                        debug_mode=info.debug_mode, connection_id=info.id)
    jira = cfg.connector("JIRA Example Connector")
    cfg.save_connector(jira.name, jira.system, {**jira.params, "url": "http://127.0.0.1:10"},
                       {"token": "canary-new-jira-pw-93ad"}, jira.network, connector_id=jira.id)


def test_plan_after_pull_is_clean_and_shows_each_changed_field(env: Env) -> None:
    assert env.cli("remote", "pull", "SDE")[0] == 0
    code, doc, _ = env.cli("remote", "plan", "SDE")
    assert code == 0 and doc["result"]["pending"] == 0, doc  # both spellings, "7" and 7: no change
    _edit(env)
    code, doc, text = env.cli("remote", "plan", "SDE")
    assert code == 1
    rows = {(c["kind"], c["name"]): c for c in doc["result"]["changes"]}
    jira = {f["field"]: f for f in rows[("connector", "JIRA Example Connector")]["fields"]}
    assert jira["alm_server"] == {"field": "alm_server", "server": "127.0.0.1:9", "local": "127.0.0.1:10"}
    assert jira["alm_pass"] == {"field": "alm_pass", "secret": True, "change": "changed"}
    github = {f["field"]: f for f in rows[("connector", "GitHub Example Connector")]["fields"]}
    assert github == {"alm_api_token": {"field": "alm_api_token", "secret": True, "change": "unchanged"}}
    conn = {f["field"]: (f["server"], f["local"]) for f in rows[("connection", "Example Connection")]["fields"]}
    assert conn == {"frequency": ("hourly", "daily"), "alm_project": ("EXAMPLE", "NEWKEY"),
                    "sde_min_priority": ("7", 5)}
    for secret in (*CANARIES, "canary-new-jira-pw-93ad"):
        assert secret not in text
    _, plain = env.plain("remote", "plan", "SDE")
    assert "alm_pass: secret changed" in plain and "alm_api_token: secret unchanged" in plain


def test_push_asks_writes_the_seed_shapes_and_a_second_push_changes_nothing(env: Env) -> None:
    assert env.cli("remote", "pull", "SDE")[0] == 0
    _edit(env)
    code, _, _ = env.cli("remote", "push", "SDE", stdin="n\n")
    assert code == 2 and env.app.store.connections[5]["frequency"] == "hourly"  # refused at the prompt: nothing sent
    code, doc, _ = env.cli("remote", "push", "SDE", stdin="y\n")
    assert code == 0, doc
    assert doc["result"]["done"] == ["update connector 'JIRA Example Connector'",
                                     "update connection 'Example Connection'"]
    connector = env.app.store.connectors[2]
    assert connector["params"]["alm_server"] == "127.0.0.1:10" and connector["params"]["alm_pass"] == \
        "canary-new-jira-pw-93ad"
    assert connector["params"]["title_format"] == "$task_id $title" and connector["params"]["sde_min_priority"] == "7"
    assert "url" not in connector["params"] and "user" not in connector["params"]
    conn = env.app.store.connections[5]
    assert conn["frequency"] == "daily" and conn["own_params"]["alm_project"] == "NEWKEY"
    assert conn["own_params"]["sde_min_priority"] == 5 and conn["connector"] == 2 and conn["project"] == 1
    assert env.cli("remote", "plan", "SDE")[0] == 0
    code, doc, _ = env.cli("remote", "push", "SDE", "--yes")
    assert code == 0 and doc["result"]["done"] == []


def test_a_new_local_connection_in_the_bound_project_is_created_with_ids(env: Env) -> None:
    assert env.cli("remote", "pull", "SDE")[0] == 0
    cfg = env.services.config
    project = cfg.connection("Example Connection").project
    cfg.save_connection("Second Jira", "JIRA Example Connector", project, {"alm_project": "SECOND"})
    code, doc, _ = env.cli("remote", "push", "SDE", "--yes", "--only", "Second Jira")
    assert code == 0 and doc["result"]["done"] == ["create connection 'Second Jira'"]
    made = next(c for c in env.app.store.connections.values() if c["alias"] == "Second Jira")
    assert made["connector"] == 2 and made["project"] == 1 and made["own_params"] == {"alm_project": "SECOND"}
    assert env.cli("remote", "plan", "SDE")[0] == 0


def test_deletes_only_with_delete_and_a_confirmation(env: Env) -> None:
    assert env.cli("remote", "pull", "SDE")[0] == 0
    env.services.config.delete_connection("Example Connection")
    code, doc, _ = env.cli("remote", "push", "SDE", "--yes")
    assert code == 0 and 5 in env.app.store.connections
    code, _, _ = env.cli("remote", "push", "SDE", "--delete", stdin="no\n")
    assert code == 2 and 5 in env.app.store.connections
    code, doc, _ = env.cli("remote", "push", "SDE", "--delete", stdin="delete\n")
    assert code == 0 and doc["result"]["done"] == ["delete connection 'Example Connection'"]
    assert 5 not in env.app.store.connections
    assert env.cli("remote", "plan", "SDE")[0] == 0


@pytest.fixture
def toy_services(env: Env, registry) -> Services:
    svc = Services.open(env.data_dir, registry=registry)
    yield svc
    svc.close()


def test_a_refusal_with_field_errors_names_the_field(env: Env, toy_services: Services, toy_server) -> None:
    cfg = toy_services.config
    client = toy_services.sde_client("SDE")
    pull(cfg, "SDE", client)
    project = cfg.connection("Example Connection").project
    info = toy_server.app.describe(toy_server.url)
    cfg.save_connector("Toy", "toy", info["params"], info["secrets"])
    cfg.save_connection("toy-one", "Toy", project, info.get("connection_params", {}))
    report = push(cfg, "SDE", client)
    client.close()
    assert report.failed == "create connector 'Toy'" and report.error is not None
    assert report.error.field == "system" and "Unknown ALM system 'toy'" in report.error.message
    assert "create connection 'toy-one'" in report.left
    assert all(c["name"] != "Toy" for c in env.app.store.connectors.values())


def test_a_server_failure_part_way_leaves_the_rest_planned(env: Env) -> None:
    assert env.cli("remote", "pull", "SDE")[0] == 0
    cfg = env.services.config
    project = cfg.connection("Example Connection").project
    for alias in ("A one", "B two"):
        cfg.save_connection(alias, "JIRA Example Connector", project, {"alm_project": alias.split()[0] + "KEY"})
    real = env.app.handlers["alm.connection_add"]
    calls = []

    def second_fails(call, **values):
        calls.append(1)
        if len(calls) == 2:
            raise ApiError(500, {"detail": "A server error occurred."})
        return real(call, **values)

    env.app.handlers["alm.connection_add"] = second_fails
    code, doc, _ = env.cli("remote", "push", "SDE", "--yes")
    assert code == 3, doc
    result = doc["result"]
    assert result["done"] == ["create connection 'A one'"] and result["failed"] == "create connection 'B two'"
    env.app.handlers["alm.connection_add"] = real
    code, plan, _ = env.cli("remote", "plan", "SDE")
    pending = [(c["action"], c["name"]) for c in plan["result"]["changes"] if c["action"] in ("create", "update")]
    assert code == 1 and pending == [("create", "B two")]
    assert env.cli("remote", "push", "SDE", "--yes")[0] == 0
    aliases = sorted(c["alias"] for c in env.app.store.connections.values())
    assert aliases == ["A one", "B two", "Example Connection", "Rally Integration"]
    assert json.dumps(env.cli("remote", "plan", "SDE")[1]["result"]["pending"]) == "0"
