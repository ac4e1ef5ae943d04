"""``almdesk remote test`` beside almdesk's own test, and the seed's examples pulled and exported."""

from __future__ import annotations

import json
import re
from pathlib import Path

from almdesk.sandbox.base import serve
from almdesk.sandbox.jira import create as jira_sandbox
from tests.remote.conftest import Env

SEED = Path(__file__).with_name("data") / "seed_002_alm_connections.txt"  # a copy of seeds/002_…


def test_remote_test_says_when_the_server_and_the_desktop_disagree(env: Env) -> None:
    assert env.cli("remote", "pull", "SDE")[0] == 0
    code, doc, _ = env.cli("remote", "test", "SDE", "JIRA Example Connector")
    result = doc["result"]
    assert code == 1 and result["server"]["success"] is True and result["desktop"]["succeeded"] is False
    assert result["verdict"].startswith("They disagree: the server reaches the ALM but this desktop cannot")
    # a Jira the desktop reaches, which the server cannot (it answers only success: false)
    jira = serve(jira_sandbox(seed=3))
    try:
        info = jira.describe()
        cfg = env.services.config
        local = cfg.connector("JIRA Example Connector")
        cfg.save_connector(local.name, "jira", info["params"], info["secrets"], local.network, connector_id=local.id)
        env.app.handlers["alm.connector_test"] = lambda call, **_: (200, {"success": False})
        code, doc, _ = env.cli("remote", "test", "SDE", "JIRA Example Connector")
        result = doc["result"]
        assert result["desktop"]["succeeded"] is True and result["server"]["success"] is False and code == 1
        assert result["verdict"].startswith("They disagree: this desktop reaches the ALM but the server cannot")
        del env.app.handlers["alm.connector_test"]
    finally:
        jira.stop()


def test_remote_test_of_a_connection_posts_the_seed_shape(env: Env) -> None:
    assert env.cli("remote", "pull", "SDE")[0] == 0
    before = env.app.counts.get("alm.connection_test", 0)
    _code, doc, _ = env.cli("remote", "test", "SDE", "Example Connection")
    assert env.app.counts["alm.connection_test"] == before + 1
    assert doc["result"]["server"] == {"kind": "connection", "name": "Example Connection", "success": True,
                                       "detail": "the server reached the ALM", "inaccessible": False}


def _seed_params() -> list[dict]:
    """The params objects of the seed's GET examples (connectors list and the last_job listing)."""
    text = SEED.read_text(encoding="utf-8")
    found = []
    decoder = json.JSONDecoder()
    for head in re.finditer(r"HTTP/1.1 200 OK\nContent-Type: application/json\n", text):
        doc, _ = decoder.raw_decode(text, head.end())
        found += doc.get("results", [doc])
    return found


def test_the_seed_s_examples_pulled_export_the_seed_s_params_without_secrets(env: Env) -> None:
    assert env.cli("remote", "pull", "SDE")[0] == 0
    _code, doc, _ = env.cli("export")
    exported = {c["name"]: c for c in doc["result"]["connectors"]}
    seed = {i["name"]: i for i in _seed_params() if "name" in i and "alias" not in i}
    for name in ("GitHub Example Connector", "JIRA Example Connector"):
        want = {k: v for k, v in seed[name]["params"].items() if k not in ("alm_api_token", "alm_pass")}
        # the two values almdesk refuses were made valid, and the Jira points at loopback (see conftest)
        want.update({"GitHub Example Connector": {"github_repo_owner": "repo-owner"},
                     "JIRA Example Connector": {"alm_user": "user@example.com", "alm_server": "127.0.0.1:9",
                                                "alm_method": "http"}}[name])
        assert exported[name]["params"] == want
        assert exported[name]["secrets_omitted"] == (["alm_api_token"] if "GitHub" in name else ["token"])
    conn = next(c for c in doc["result"]["results"] if c["alias"] == "Example Connection")
    assert conn["params"] == {"alm_project": "EXAMPLE", "alm_parent_issue": "Parent", "sde_businessunit": "General",
                              "sde_application": "Demo Application", "sde_project": "Demo Project"}
    assert "canary" not in json.dumps(doc)


def test_the_seed_as_is_pulls_into_read_only_rows_naming_what_almdesk_refuses(literal_env: Env) -> None:
    code, doc, _ = literal_env.cli("remote", "pull", "SDE")
    assert code == 0 and doc["result"]["created"] == []
    reasons = "\n".join(doc["result"]["read_only"])
    assert "github_repo_owner: 'repo owner' is not a GitHub user or organisation name" in reasons
    assert "user: 'user' is not an e-mail address" in reasons
    assert "connection 'Rally Integration': its connector (server id 2) is not pulled" in reasons
    code, plan, _ = literal_env.cli("remote", "plan", "SDE")
    assert code == 0 and {c["action"] for c in plan["result"]["changes"]} == {"read-only"}
