"""The headless recipe of docs/headless.md, command by command, in plain subprocesses against the Jira
sandbox: the configuration is exported once on a desktop (real keyring), imported in a "CI job" that
has no D-Bus session (so no keyring) and gets its secrets from ``ALMDESK_SECRET_<CONNECTOR>_<FIELD>``;
the gate's and the sync's ``--junit`` files are parsed. Also: env secrets are never written anywhere.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from almdesk import sandbox
from almdesk.sandbox.base import SandboxServer, serve
from almdesk.secrets import EnvSecretStore, env_var, open_secret_store

ALMDESK = [sys.executable, "-m", "almdesk.cli"]
CONNECTOR = "Jira demo"
LONG_TAG = "x" * 300  # Jira refuses a label over 255 characters: this task's item fails


@pytest.fixture
def jira() -> Iterator[SandboxServer]:
    server = serve(sandbox.create("jira", seed=5))
    yield server
    server.stop()


def ci_env(**extra: str) -> dict[str, str]:
    """A CI job's environment: no D-Bus session (no keyring reachable), no inherited almdesk settings."""
    env = {k: v for k, v in os.environ.items()
           if k != "DBUS_SESSION_BUS_ADDRESS" and not k.startswith("ALMDESK_")}
    return {**env, **extra}


def almdesk(*args: str, env: dict[str, str], stdin: str = "", cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*ALMDESK, *args], input=stdin, capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=120)


def parse_junit(path: Path) -> list[dict[str, Any]]:
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    cases = []
    for suite in root.iter("testsuite"):
        assert int(suite.get("tests", "-1")) == len(suite.findall("testcase"))
        for case in suite.iter("testcase"):
            outcome = "failure" if case.find("failure") is not None else "error" if case.find("error") is not None \
                else "passed"
            node = case.find(outcome) if outcome != "passed" else None
            cases.append({"classname": case.get("classname"), "name": case.get("name"), "outcome": outcome,
                          "message": node.get("message") if node is not None else ""})
    assert int(root.get("tests", "-1")) == len(cases)
    assert int(root.get("failures", "-1")) == sum(c["outcome"] == "failure" for c in cases)
    return cases


def desktop_export(tmp_path: Path, jira: SandboxServer) -> Path:
    """Once, on an admin's desktop (the tests' real keyring): connector, connection, export."""
    desc = jira.describe()
    desktop = {**os.environ}
    desktop.pop("ALMDESK_SECRETS", None)
    data = ["--data-dir", str(tmp_path / "desktop")]
    params = [a for k, v in desc["params"].items() for a in ("--param", f"{k}={v}")]
    added = almdesk(*data, "connector", "add", "--system", "jira", "--name", CONNECTOR, *params,
                    "--secret", "token", env=desktop, stdin=desc["secrets"]["token"] + "\n")
    assert added.returncode == 0, added.stderr
    assert almdesk(*data, "project", "add", "Payments", env=desktop).returncode == 0
    conn = [a for k, v in desc["connection_params"].items() for a in ("--param", f"{k}={v}")]
    made = almdesk(*data, "connection", "add", "--connector", CONNECTOR, "--alias", "payments",
                   "--project", "Payments", *conn, env=desktop)
    assert made.returncode == 0, made.stderr
    out = tmp_path / "almdesk-config.json"
    exported = almdesk(*data, "export", "--out", str(out), env=desktop)
    assert exported.returncode == 0, exported.stderr
    assert desc["secrets"]["token"] not in out.read_text()
    return out


def test_ci_recipe_without_dbus(tmp_path: Path, jira: SandboxServer) -> None:
    config = desktop_export(tmp_path, jira)
    token = jira.describe()["secrets"]["token"]
    job = tmp_path / "job"
    job.mkdir()
    tasks = job / "tasks.json"
    tasks.write_text(json.dumps([{"task_id": "CI901", "title": "Protect session tokens", "phase": "development",
                                  "priority": 9, "status": "TODO"},
                                 {"task_id": "CI902", "title": "Validate input", "phase": "development", "priority": 9,
                                  "status": "TODO", "tags": [LONG_TAG]}]))
    env = ci_env(ALMDESK_HOME=str(job / "data"), **{env_var(CONNECTOR, "token"): token})
    assert env_var(CONNECTOR, "token") == "ALMDESK_SECRET_JIRA_DEMO_TOKEN"

    imported = almdesk("import", str(config), env=env)
    assert imported.returncode == 0, imported.stdout + imported.stderr
    assert "ALMDESK_SECRET_JIRA_DEMO_TOKEN" in imported.stdout  # said where the secret came from
    shown = almdesk("--json", "connector", "show", CONNECTOR, env=env)
    assert json.loads(shown.stdout)["result"]["secrets_set"] == ["token"]
    tested = almdesk("connector", "test", CONNECTOR, env=env)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert almdesk("project", "import", "Payments", str(tasks), env=env).returncode == 0

    gate = almdesk("gate", "--connection", "payments", "--threshold", "0", "--operator", "<=",
                   "--junit", "gate.xml", env=env, cwd=job)
    assert gate.returncode == 1, gate.stdout + gate.stderr  # the sandbox has open bugs
    [case] = parse_junit(job / "gate.xml")
    assert case["outcome"] == "failure" and "matching" in case["message"]
    assert case["classname"] == "almdesk.gate.payments"

    sync = almdesk("sync", "payments", "--junit", "sync.xml", env=env, cwd=job)
    assert sync.returncode == 1, sync.stdout + sync.stderr  # one task failed
    cases = parse_junit(job / "sync.xml")
    assert [c["outcome"] for c in cases] == ["failure", "failure"]
    assert cases[0]["name"] == "Sync payments" and "1 failed" in cases[0]["message"]
    assert cases[1]["name"].startswith("CI902") and "255" in cases[1]["message"]

    again = almdesk("--json", "sync", "payments", "--junit", "sync.xml", env=env, cwd=job)
    assert json.loads(again.stdout)["result"]["counts"]["unchanged"] == 1  # --json stays, T1 is there

    # the secret was never written: not in the database, the logs, the traces, the reports
    for path in (job / "data").rglob("*"):
        if path.is_file():
            assert token.encode() not in path.read_bytes(), path
    for path in job.glob("*.xml"):
        assert token not in path.read_text()


def test_a_gate_that_cannot_start_writes_an_error_case(tmp_path: Path) -> None:
    env = ci_env(ALMDESK_HOME=str(tmp_path / "data"))
    gate = almdesk("gate", "--connection", "nope", "--threshold", "0", "--operator", "<=",
                   "--junit", str(tmp_path / "gate.xml"), env=env)
    assert gate.returncode == 2
    [case] = parse_junit(tmp_path / "gate.xml")
    assert case["outcome"] == "error" and "nope" in case["message"]


def test_connector_add_without_secret_reads_the_environment(tmp_path: Path, jira: SandboxServer) -> None:
    desc = jira.describe()
    params = [a for k, v in desc["params"].items() for a in ("--param", f"{k}={v}")]
    env = ci_env(ALMDESK_HOME=str(tmp_path / "data"), ALMDESK_SECRETS="env")
    env["DBUS_SESSION_BUS_ADDRESS"] = os.environ.get("DBUS_SESSION_BUS_ADDRESS", "")  # a keyring may work: env wins
    missing = almdesk("connector", "add", "--system", "jira", "--name", "CI Jira #1", *params, env=env)
    assert missing.returncode == 2
    assert "ALMDESK_SECRET_CI_JIRA_1_TOKEN" in missing.stderr  # the hint names the variable
    env["ALMDESK_SECRET_CI_JIRA_1_TOKEN"] = desc["secrets"]["token"]
    added = almdesk("connector", "add", "--system", "jira", "--name", "CI Jira #1", *params, env=env)
    assert added.returncode == 0, added.stderr
    assert almdesk("connector", "test", "CI Jira #1", env=env).returncode == 0
    refused = almdesk("connector", "edit", "CI Jira #1", "--secret", "token", env=env, stdin="other\n")
    assert refused.returncode == 2 and "never stored" in refused.stderr


def test_env_store_contract() -> None:
    names = {"u1": "Jira – prod (EU)"}
    env = {"ALMDESK_SECRET_JIRA_PROD_EU_TOKEN": "s3cret"}
    store = open_secret_store(names.get, {**env, "ALMDESK_SECRETS": "ENV"})
    assert isinstance(store, EnvSecretStore) and not store.persistent
    assert env_var("Jira – prod (EU)", "token") == "ALMDESK_SECRET_JIRA_PROD_EU_TOKEN"
    assert env_var("a.b", "proxy_password") == "ALMDESK_SECRET_A_B_PROXY_PASSWORD"
    assert store.get("u1", "token") == "s3cret" and store.get("u2", "token") == ""
    store.set("u1", "token", "s3cret")  # what the environment holds already: nothing kept
    assert store._memory == {}
    store.set("u2", "token", "typed")  # the GUI without a keyring: this session only
    assert store.get("u2", "token") == "typed"
    store.delete("u2", "token")
    assert store.get("u2", "token") == ""
    with pytest.raises(Exception, match="ALMDESK_SECRETS"):
        open_secret_store(names.get, {"ALMDESK_SECRETS": "plaintext"})
