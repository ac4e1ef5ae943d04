"""``almdesk remote pull`` over real HTTP against the SD Elements sandbox: mapping, secrets to the
keyring only, own vs inherited params, bound projects, re-pull in place, hidden params, unknown systems."""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import func, select

from almdesk.models import Connection, Connector, Project, RemoteItem
from almdesk.sandbox.base import serve
from almdesk.sandbox.jira import create as jira_sandbox
from tests.remote.conftest import CANARIES, GITHUB_TOKEN, JIRA_PASS, Env


def _files_holding(root: Path, secret: str) -> list[str]:
    return [str(p) for p in root.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]


def test_pull_maps_connectors_and_connections_and_secrets_go_to_the_keyring_only(env: Env, capsys) -> None:
    code, doc, text = env.cli("remote", "pull", "SDE")
    assert code == 0, doc
    result = doc["result"]
    assert sorted(result["created"]) == ["connection 'Example Connection'", "connector 'GitHub Example Connector'",
                                         "connector 'JIRA Example Connector'"]
    assert result["secrets_to_keyring"] == 2
    cfg = env.services.config
    github, jira = cfg.connector("GitHub Example Connector"), cfg.connector("JIRA Example Connector")
    assert (github.system, jira.system) == ("github", "jira")
    assert github.params["url"] == "https://api.github.com" and github.params["github_repo_owner"] == "repo-owner"
    assert jira.params["url"] == "http://127.0.0.1:9" and jira.params["user"] == "user@example.com"
    assert env.services.secrets.get(github.uid, "alm_api_token") == GITHUB_TOKEN
    assert env.services.secrets.get(jira.uid, "token") == JIRA_PASS
    # the connection: its own params, the connector's scope settings as defaults, bound to the server project
    conn = cfg.connection("Example Connection")
    assert conn.connector == "JIRA Example Connector" and conn.frequency == "hourly" and conn.debug_mode
    assert conn.params["alm_project"] == "EXAMPLE" and conn.params["alm_parent_issue"] == "Parent"
    assert conn.params["sde_min_priority"] == 7  # "7" on the connector, an int here
    with env.services.store.session() as s:
        project = s.scalar(select(Project).where(Project.name == conn.project))
        assert project is not None and project.source_project == 1
        mirror = s.scalar(select(RemoteItem).where(RemoteItem.connection_id == conn.id))
        assert mirror is not None and mirror.server_id == 5
        assert mirror.params == {"alm_project": "EXAMPLE", "alm_parent_issue": "Parent"}  # only its own
    # a traced (debug) test of the mirrored connection, a plan and a push of a changed secret, then:
    # no secret value anywhere but the keyring — data dir (db, wal, logs, traces), output
    jira_server = serve(jira_sandbox(seed=3))
    try:
        info = jira_server.describe()
        cfg.save_connector(jira.name, "jira", info["params"], {"token": "canary-pushed-pw-6f0a"}, jira.network,
                           connector_id=jira.id)
        code, doc, more = env.cli("connection", "test", "Example Connection")
    finally:
        jira_server.stop()
    assert doc["result"]["job_id"] and list((env.data_dir / "traces").glob("*.jsonl"))  # debug_mode: traced
    for args in (("remote", "plan", "SDE"), ("remote", "push", "SDE", "--yes"), ("export",)):
        more += env.cli(*args)[2]
    assert env.app.store.connectors[2]["params"]["alm_pass"] == "canary-pushed-pw-6f0a"
    text += more
    # the process-wide log handler writes to the first data dir a test process opened: read that log too
    logs = [Path(h.baseFilename) for h in logging.getLogger().handlers if isinstance(h, logging.FileHandler)]
    assert logs and all(log.exists() for log in logs)
    captured = capsys.readouterr()
    for secret in (*CANARIES, "canary-pushed-pw-6f0a", env.token):
        assert _files_holding(env.data_dir, secret) == []
        assert all(secret not in log.read_text(encoding="utf-8", errors="replace") for log in logs)
        assert secret not in text and secret not in captured.out + captured.err


def test_re_pull_updates_in_place_and_follows_the_server(env: Env) -> None:
    assert env.cli("remote", "pull", "SDE")[0] == 0
    cfg = env.services.config
    before = (cfg.connector("JIRA Example Connector").id, cfg.connection("Example Connection").id)
    env.app.store.connectors[2]["params"]["jira_version"] = "6"
    env.app.store.connections[5]["own_params"]["alm_project"] = "OTHER"
    code, doc, _ = env.cli("remote", "pull", "SDE")
    assert code == 0 and doc["result"]["created"] == []
    assert "connection 'Example Connection'" in doc["result"]["updated"]
    assert (cfg.connector("JIRA Example Connector").id, cfg.connection("Example Connection").id) == before
    assert cfg.connection("Example Connection").params["alm_project"] == "OTHER"
    with env.services.store.session() as s:
        assert s.scalar(select(func.count()).select_from(Connector)) == 3  # SDE + the two pulled
        assert s.scalar(select(func.count()).select_from(Connection)) == 1
        assert s.scalar(select(func.count()).select_from(Project)) == 1
        assert s.scalar(select(func.count()).select_from(RemoteItem)) == 4


def test_the_seed_s_rally_connection_on_a_jira_connector_and_unknown_systems_are_kept_read_only(env: Env) -> None:
    env.app.store.connectors[3] = {"id": 3, "name": "HP ALM Connector", "inaccessible": False,
                                   "system": {"id": "hp_alm", "short_name": "HP ALM", "name": "HP ALM"},
                                   "params": {"alm_server": "alm.example.com", "hp_alm_domain": "D"}}
    code, doc, _ = env.cli("remote", "pull", "SDE")
    assert code == 0
    read_only = "\n".join(doc["result"]["read_only"])
    assert "connector 'HP ALM Connector': unknown system 'hp_alm'" in read_only
    assert "connection 'Rally Integration': it is a rally connection but its connector is jira" in read_only
    code, plan, _ = env.cli("remote", "plan", "SDE")
    rows = {(c["kind"], c["name"]): c for c in plan["result"]["changes"]}
    assert rows[("connector", "HP ALM Connector")]["action"] == "read-only"
    assert rows[("connection", "Rally Integration")]["action"] == "read-only"
    assert "HP ALM Connector" not in [c.name for c in env.services.config.connectors()]


def test_params_hidden_without_the_edit_permission_are_named(env: Env) -> None:
    dev = env.app.token("dev@example.com")
    env.services.config.save_connector("SDE dev", "sdelements", {"url": env.server.url}, {"api_token": dev})
    code, doc, text = env.cli("remote", "pull", "SDE dev")
    assert code == 0
    assert doc["result"]["no_params"] == ["connection 'Rally Integration'", "connection 'Example Connection'"]
    code, text = env.plain("remote", "pull", "SDE dev")
    assert "came without params (connection 'Rally Integration', connection 'Example Connection')" in text
    assert "lacks the 'Edit ALM connections' permission" in text
    with env.services.store.session() as s:
        hidden = s.scalars(select(RemoteItem.read_only).where(RemoteItem.kind == "connection")).all()
    assert all("Edit ALM connections" in h for h in hidden)
