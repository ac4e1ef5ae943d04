"""Each system end to end through the CLI against its sandbox: add, test, connection, gate, defect.

Parametrised over every system whose package and sandbox are installed, so a new system is covered
as soon as it lands.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from almdesk import sandbox
from almdesk.base.fields import FieldKind
from almdesk.errors import EXIT_CONFIG, EXIT_OK, EXIT_REMOTE
from almdesk.sandbox.base import SandboxServer, serve
from almdesk.systems.registry import Registry, is_alm_target
from tests.cli_run import run

REGISTRY = Registry.default()
SYSTEMS = [s for s in sandbox.available() if s in REGISTRY]




@pytest.fixture(params=SYSTEMS)
def server(request: pytest.FixtureRequest) -> Iterator[SandboxServer]:
    srv = serve(sandbox.create(request.param, seed=3))
    yield srv
    srv.stop()


def add_connector(data_dir: Path, desc: dict[str, Any], name: str = "c", **overrides: str) -> tuple[int, dict]:
    system = REGISTRY.get(desc["system"])
    args = ["connector", "add", "--system", desc["system"], "--name", name]
    params = {**desc["params"], **{k: v for k, v in overrides.items() if k in desc["params"]}}
    for key, value in params.items():
        args += ["--param", f"{key}={value if not isinstance(value, list) else ','.join(value)}"]
    secrets = {**desc["secrets"], **{k: v for k, v in overrides.items() if k in desc["secrets"]}}
    secret_fields = [f.name for f in system.connector_fields if f.kind is FieldKind.SECRET]
    stdin = ""
    for key, value in secrets.items():
        if key in secret_fields and value:
            args += ["--secret", key]
            stdin += value + "\n"
    return run(data_dir, *args, stdin=stdin)


def test_connector_and_connection_test_pass(data_dir: Path, server: SandboxServer) -> None:
    desc = server.describe()
    code, doc = add_connector(data_dir, desc)
    assert code == EXIT_OK, doc
    code, doc = run(data_dir, "connector", "test", "c")
    assert code == EXIT_OK, doc
    assert all(s["status"] in ("ok", "warning") for s in doc["result"]["steps"])
    assert run(data_dir, "project", "add", "P")[0] == EXIT_OK
    args = ["connection", "add", "--connector", "c", "--alias", "a", "--project", "P"]
    for key, value in desc["connection_params"].items():
        args += ["--param", f"{key}={value if not isinstance(value, list) else ','.join(value)}"]
    code, doc = run(data_dir, *args)
    if not is_alm_target(REGISTRY.get(desc["system"])):  # a task source is no connection's target
        assert code == EXIT_CONFIG and "task source" in doc["error"], doc
        return
    assert code == EXIT_OK, doc
    code, doc = run(data_dir, "connection", "test", "a")
    assert code == EXIT_OK, doc
    code, doc = run(data_dir, "jobs", "--last", "5")
    assert [j["kind"] for j in doc["result"]][:2] == ["test-connection", "test-connector"]


def test_wrong_secret_exits_3(data_dir: Path, server: SandboxServer) -> None:
    desc = server.describe()
    wrong = {k: "wrong-" + v for k, v in desc["secrets"].items() if v}
    code, doc = add_connector(data_dir, desc, **wrong)
    assert code == EXIT_OK, doc
    code, doc = run(data_dir, "connector", "test", "c")
    assert code == EXIT_REMOTE, doc
    failed = [s for s in doc["result"]["steps"] if s["status"] == "failed"]
    assert len(failed) == 1 and failed[0]["hint"]


def test_unreachable_exits_3(data_dir: Path, server: SandboxServer) -> None:
    desc = server.describe()
    url_key = next(k for k, v in desc["params"].items() if isinstance(v, str) and v.startswith(server.url))
    desc["params"][url_key] = desc["params"][url_key].replace(server.url, "http://127.0.0.1:9")
    code, doc = add_connector(data_dir, desc)
    assert code == EXIT_OK, doc
    code, doc = run(data_dir, "connector", "test", "c")
    assert code == EXIT_REMOTE
    assert "refused" in doc["result"]["message"]
