"""Sync identity through the CLI on every system's sandbox: the shared-context conflict's exit codes and
message, and ``almdesk links / link / unlink`` (issue 13).

``connection test`` exits 1 naming the other connection and the fix; ``sync`` exits 2 with the same
message and writes nothing; once the contexts differ both sync. ``links --json`` lists each task's item,
URL, status, time and state; ``unlink`` detaches a task (a sync neither re-links nor re-creates it) and
``link`` attaches it again by key or URL.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from almdesk import sandbox
from almdesk.base.fields import FieldKind
from almdesk.errors import EXIT_CONFIG, EXIT_FAILED, EXIT_OK
from almdesk.sandbox.base import SandboxServer, serve
from almdesk.systems.registry import Registry
from tests.cli_run import run

REGISTRY = Registry.default()
SYSTEMS = [s for s in sandbox.available() if s in REGISTRY.alm_targets()]
TASKS = [("T1", 'Quote "this" and ^ \\ too'), ("T2", "Pipes || ( and ü"), ("T12", "T2: inside another title")]




@pytest.fixture(params=SYSTEMS)
def server(request: pytest.FixtureRequest) -> Iterator[SandboxServer]:
    srv = serve(sandbox.create(request.param, seed=3))
    yield srv
    srv.stop()


def setup(data_dir: Path, desc: dict[str, Any], tmp: Path) -> None:
    system = REGISTRY.get(desc["system"])
    args = ["connector", "add", "--system", desc["system"], "--name", "c"]
    for key, value in desc["params"].items():
        args += ["--param", f"{key}={value if not isinstance(value, list) else ','.join(value)}"]
    secret_fields = [f.name for f in system.connector_fields if f.kind is FieldKind.SECRET]
    stdin = ""
    for key, value in desc["secrets"].items():
        if key in secret_fields and value:
            args += ["--secret", key]
            stdin += value + "\n"
    code, doc = run(data_dir, *args, stdin=stdin)
    assert code == EXIT_OK, doc
    file = tmp / "tasks.csv"
    with file.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["task_id", "title", "phase", "priority", "status"])
        writer.writerows([tid, title, "development", 8, "TODO"] for tid, title in TASKS)
    for project in ("pa", "pb"):
        assert run(data_dir, "project", "add", project)[0] == EXIT_OK
        assert run(data_dir, "project", "import", project, str(file))[0] == EXIT_OK
    for alias, project in (("a", "pa"), ("b", "pb")):
        args = ["connection", "add", "--connector", "c", "--alias", alias, "--project", project,
                "--param", "alm_title_format=[SDE] $task_id $title"]
        for key, value in desc["connection_params"].items():
            args += ["--param", f"{key}={value if not isinstance(value, list) else ','.join(value)}"]
        code, doc = run(data_dir, *args)
        assert code == EXIT_OK, doc


def test_shared_context_conflict_then_links_through_the_cli(data_dir: Path, server: SandboxServer,
                                                            tmp_path: Path) -> None:
    setup(data_dir, server.describe(), tmp_path)
    code, doc = run(data_dir, "connection", "test", "a")
    assert code == EXIT_FAILED, doc
    (step,) = [s for s in doc["result"]["steps"] if s["status"] == "failed"]
    assert step["key"] == "identity" and "'b'" in step["detail"] and "alm_context" in step["hint"]
    code, doc = run(data_dir, "sync", "a")
    assert code == EXIT_CONFIG and "'b'" in doc["result"]["message"] and "alm_context" in doc["result"]["message"]
    assert run(data_dir, "links", "a")[1]["result"] == []

    assert run(data_dir, "connection", "edit", "b", "--param", "alm_context=Billing")[0] == EXIT_OK
    code, doc = run(data_dir, "connection", "test", "a")
    assert code == EXIT_OK, doc
    (step,) = [s for s in doc["result"]["steps"] if s["key"] == "identity"]
    assert step["status"] == "warning" and "'b' (Billing)" in step["detail"] and "$context" in step["detail"]
    for alias in ("a", "b"):  # the refused sync wrote nothing: each creates all of its own
        code, doc = run(data_dir, "sync", alias)
        assert code == EXIT_OK and (doc["result"]["counts"]["created"], doc["result"]["counts"]["linked"]) == (3, 0)

    code, doc = run(data_dir, "links", "a")
    rows = {r["task_id"]: r for r in doc["result"]}
    assert code == EXIT_OK and sorted(rows) == ["T1", "T12", "T2"]
    assert all(r["state"] == "linked" and r["alm_key"] and r["url"].startswith("http") and r["seen"] and r["status"]
               for r in rows.values())
    t1 = rows["T1"]

    code, doc = run(data_dir, "unlink", "a", "T1")
    assert code == EXIT_OK and doc["result"]["state"] == "detached"
    code, doc = run(data_dir, "sync", "a")
    counts = doc["result"]["counts"]
    assert code == EXIT_OK and (counts["created"], counts["linked"], counts["skipped"]) == (0, 0, 1)
    assert [r["task_id"] for r in run(data_dir, "links", "a", "--state", "detached")[1]["result"]] == ["T1"]

    code, doc = run(data_dir, "link", "a", "T1", t1["url"])  # by URL
    assert code == EXIT_OK and (doc["result"]["alm_ref"], doc["result"]["state"]) == (t1["alm_ref"], "linked")
    b_t2 = {r["task_id"]: r for r in run(data_dir, "links", "b")[1]["result"]}["T2"]
    code, doc = run(data_dir, "link", "a", "T2", b_t2["alm_key"])  # Billing's item: not a's to take
    assert code == EXIT_CONFIG and doc["field"] == "item"
    code, doc = run(data_dir, "link", "a", "T9", t1["alm_key"])
    assert code == EXIT_CONFIG and "no task" in doc["error"]
    code, doc = run(data_dir, "sync", "a")
    assert code == EXIT_OK and doc["result"]["counts"]["unchanged"] == 3 and doc["result"]["counts"]["created"] == 0
