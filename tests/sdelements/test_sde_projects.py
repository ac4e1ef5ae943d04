"""Projects bound to an SD Elements project, through the CLI and the services, against the sandbox
over real HTTP with the real store and keyring: pick, add (bound), refresh, test, list, and a sync of
a bound project that refreshes first."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from almdesk import sandbox
from almdesk.cli import main
from almdesk.errors import EXIT_CONFIG, EXIT_OK, ConfigError
from almdesk.models import Project, Task
from almdesk.sandbox.base import SandboxServer, serve
from almdesk.sandbox.sdelements import SdeApp
from almdesk.services import Services
from almdesk.sources import bind_project, source_of


def cli(data_dir: Path, *args: str, stdin: str = "") -> tuple[int, Any]:
    out = io.StringIO()
    code = main(["--data-dir", str(data_dir), "--json", *args], stdin=io.StringIO(stdin), stdout=out)
    lines = [line for line in out.getvalue().splitlines() if line.startswith("{")]
    return code, json.loads(lines[-1])


def add_sde(data_dir: Path, desc: dict[str, Any], name: str = "sde") -> None:
    code, doc = cli(data_dir, "connector", "add", "--system", "sdelements", "--name", name, "--param",
                    f"url={desc['url']}", "--secret", "api_token", stdin=desc["secrets"]["api_token"] + "\n")
    assert code == EXIT_OK, doc


def test_pick_add_refresh_list_test(data_dir: Path, sde_server: SandboxServer, sde_desc: dict[str, Any],
                                    sde_app: SdeApp) -> None:
    add_sde(data_dir, sde_desc)
    code, doc = cli(data_dir, "project", "pick", "--source", "sde")
    assert code == EXIT_OK and doc["result"]["items"][0]["name"] == "General"
    code, doc = cli(data_dir, "project", "pick", "--source", "sde", "--business-unit", "1")
    assert doc["result"]["kind"] == "application" and {a["name"] for a in doc["result"]["items"]} == {
        "Demo Application", "Finance App"}
    code, doc = cli(data_dir, "project", "pick", "--source", "sde", "--application", "1")
    assert [p["id"] for p in doc["result"]["items"]] == [1, 2]

    code, doc = cli(data_dir, "project", "add", "Shop", "--source", "sde", "--sde-project", "1")
    assert code == EXIT_OK, doc
    accepted = [t for t in sde_app.store.tasks[1].values() if t["accepted"]]
    result = doc["result"]
    assert result["business_unit"] == "General" and result["application"] == "Demo Application"
    assert result["refresh"]["counts"]["created"] == len(accepted)
    code, doc = cli(data_dir, "project", "list")
    row = next(r for r in doc["result"] if r["name"] == "Shop")
    assert row["source"] == "sde" and row["sde_project"] == 1 and row["last_refresh"]
    assert row["tasks"] == len(accepted) and row["refresh_counts"]["total"] == len(accepted)

    task = next(t for t in accepted if t["status"] == "TS2")
    sde_app.store.tasks[1][task["id"]]["status"] = "TS4"  # changed on the server: a custom NA status
    code, doc = cli(data_dir, "project", "refresh", "Shop")
    assert code == EXIT_OK and doc["result"]["counts"]["updated"] == 1, doc
    svc = Services.open(data_dir)
    try:
        with svc.store.session() as s:
            stored = {t.task_id: t.status for t in s.query(Task).join(Project).where(Project.name == "Shop")}
    finally:
        svc.close()
    assert stored[task["task_id"]] == "NA"

    code, doc = cli(data_dir, "project", "test", "Shop")
    assert code == EXIT_OK, doc
    assert [s["key"] for s in doc["result"]["steps"]][-2:] == ["project", "permissions"]


def test_bad_bindings_are_refused_and_nothing_is_made(data_dir: Path, sde_server: SandboxServer,
                                                      sde_desc: dict[str, Any]) -> None:
    add_sde(data_dir, sde_desc)
    code, doc = cli(data_dir, "project", "add", "Gone", "--source", "sde", "--sde-project", "999")
    assert code == EXIT_CONFIG and doc["field"] == "sde_project", doc
    code, doc = cli(data_dir, "project", "add", "Nope", "--source", "sde")
    assert code == EXIT_CONFIG and "--sde-project" in doc["error"]
    code, doc = cli(data_dir, "project", "list")
    assert doc["result"] == []
    assert cli(data_dir, "project", "add", "File")[0] == EXIT_OK
    code, doc = cli(data_dir, "project", "refresh", "File")
    assert code == EXIT_CONFIG and "not bound" in doc["error"]


def test_alm_connector_is_no_source(services: Services, toy_server: SandboxServer) -> None:
    info = toy_server.describe()
    services.config.save_connector("toy", "toy", info["params"], info["secrets"])
    pid = services.config.add_project("P")
    try:
        bind_project(services.store, services.registry, pid, "toy", 1)
    except ConfigError as exc:
        assert "not a task source" in exc.message and exc.field == "source"
    else:
        raise AssertionError("an ALM connector was accepted as a task source")
    assert source_of(services.store, "P") is None


def test_sync_of_a_bound_project_refreshes_first(services: Services, sde_server: SandboxServer,
                                                 sde_desc: dict[str, Any], sde_app: SdeApp) -> None:
    services.config.save_connector("sde", "sdelements", sde_desc["params"], sde_desc["secrets"])
    pid = services.config.add_project("Bound")
    bind_project(services.store, services.registry, pid, "sde", 1)
    with serve(sandbox.create("jira", seed=2)) as jira:
        info = jira.describe()
        services.config.save_connector("jira", "jira", info["params"], info["secrets"])
        services.config.save_connection("bound-jira", "jira", "Bound", info["connection_params"])
        result = services.run(services.sync_spec("bound-jira"))
    assert result.state == "succeeded", result.outcome.message
    refresh = result.outcome.data["refresh"]
    assert refresh["created"] == sum(1 for t in sde_app.store.tasks[1].values() if t["accepted"])
    assert refresh["requests"] == 3
    assert result.outcome.counts.get("created", 0) > 0  # tasks pulled from the server went into the ALM
