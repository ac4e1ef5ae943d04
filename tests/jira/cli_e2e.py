"""A Jira connector used the way an admin uses it: saved through the services (secrets to the real
keyring, the rest to the SQLite file), then a debug connection (traces on) tested and synced through
the CLI. :func:`files_holding` then says which files of the data directory contain a secret."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from almdesk.errors import EXIT_OK
from almdesk.services.wiring import Services
from tests.cli_run import run


def connector_and_connection(data_dir: Path, tmp: Path, params: dict[str, Any], secrets: dict[str, str],
                             network: dict[str, Any] | None, connection_params: dict[str, Any]) -> None:
    services = Services.open(data_dir)
    try:
        services.config.save_connector("jira", "jira", params, secrets, network)
    finally:
        services.close()
    tasks = tmp / "tasks.csv"
    with tasks.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["task_id", "title", "phase", "priority", "status"])
        writer.writerows([["T1", "Validate input", "development", 8, "TODO"],
                          ["T2", "Encode output", "development", 6, "TODO"]])
    assert run(data_dir, "project", "add", "p")[0] == EXIT_OK
    assert run(data_dir, "project", "import", "p", str(tasks))[0] == EXIT_OK
    args = ["connection", "add", "--connector", "jira", "--alias", "a", "--project", "p", "--debug"]
    for key, value in connection_params.items():
        args += ["--param", f"{key}={value}"]
    code, doc = run(data_dir, *args)
    assert code == EXIT_OK, doc


def files_holding(directory: Path, *secrets: str) -> list[str]:
    """The files under ``directory`` (database, logs, traces…) in which any of ``secrets`` appears."""
    found = []
    for path in directory.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found += [f"{path.relative_to(directory)}: {s[:6]}…" for s in secrets if s and s.encode() in data]
    return found
