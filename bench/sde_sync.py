"""Bench: SD Elements requests of syncing a 5,000-task server project into each ALM sandbox, next to a
naive per-task client.

Run ``.venv/bin/python bench/sde_sync.py [--n 5000] [--only jira,octane]``. For every ALM system with
a sandbox it starts a fresh SD Elements sandbox holding one project of N tasks (the seeded mix:
every phase, priorities 1–10, every status, some unaccepted) and a fresh ALM sandbox, binds a local
project to the server project, gives the server project an ALM connection for that system, and
syncs twice with the connection's default scope (priority ≥ 7, three phases, create for TODO): the
first sync creates the items and writes their task references back; the second changes nothing.
Then one item is closed in the ALM and a third sync writes that status back.

The SD Elements requests are counted by the sandbox, and compared with the bound
``ceil(N/page max) + 2 × changes + 5``: the server answers at most 1000 tasks a page (the sandbox's
``MAX_PAGE_SIZE``, DRF's ``max_page_size``; SD Elements' own cap is undocumented, a lower one only
adds pages), and each write-back is one request (a reference POST, a status PATCH) plus, once per
task, the ``artifact_proxy`` PATCH that lets later refreshes see synced tasks from the list alone.
The constant covers the project, the task statuses, the project's ALM connections and the job
report. The naive client lists the tasks with the default page size (25) and reads each task and
its references one by one (what a client without ``include``/paging discipline does), then posts a
reference per created item. Not a test: it prints, it asserts nothing.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import keyring.backends.fail  # noqa: E402
import requests  # noqa: E402
from sqlalchemy import select  # noqa: E402

from almdesk import sandbox  # noqa: E402
from almdesk.jobs.context import JobContext  # noqa: E402
from almdesk.models import Link, Store  # noqa: E402
from almdesk.net.session import HttpFactory  # noqa: E402
from almdesk.paths import Paths  # noqa: E402
from almdesk.sandbox.base import serve  # noqa: E402
from almdesk.sandbox.sdelements import SdeApp, create  # noqa: E402
from almdesk.sandbox.sdelements.drf import MAX_PAGE_SIZE  # noqa: E402
from almdesk.secrets import SecretStore  # noqa: E402
from almdesk.services import Services  # noqa: E402
from almdesk.sources import bind_project  # noqa: E402
from almdesk.systems.registry import Registry  # noqa: E402

ALMS = ("octane", "jira", "github", "rally")
SANDBOX_OPTIONS: dict[str, dict[str, Any]] = {"jira": {"rate_limit": None, "issues": 0},
                                              "github": {"primary_limit": 10_000_000}}
CONNECTOR_PARAMS: dict[str, dict[str, Any]] = {"github": {"github_write_pace_ms": 0}}


def sde_requests(app: SdeApp) -> int:
    return app.requests


def run_system(name: str, n: int) -> dict[str, Any]:
    registry = Registry.default()
    sde_app = create(seed=9, tasks=n)
    with tempfile.TemporaryDirectory() as tmp, serve(sde_app) as sde, \
            serve(sandbox.create(name, seed=3, **SANDBOX_OPTIONS.get(name, {}))) as alm:
        paths = Paths.resolve(tmp)
        services = Services(paths, Store(paths.database), SecretStore(keyring.backends.fail.Keyring()), registry)
        desc = sde.describe()
        services.config.save_connector("sde", "sdelements", desc["params"], desc["secrets"])
        pid = services.config.add_project("Bench", "General", "Demo Application")
        bind_project(services.store, registry, pid, "sde", 1)
        info = alm.describe()
        services.config.save_connector(name, name, {**info["params"], **CONNECTOR_PARAMS.get(name, {})},
                                       info["secrets"])
        services.config.save_connection("bench", name, "Bench", info["connection_params"])
        token = desc["secrets"]["api_token"]
        made = requests.post(f"{sde.url}/api/v2/connectors/alm/", headers={"Authorization": f"Token {token}"},
                             json={"name": name, "system": {"id": name}, "params": {}}, timeout=10).json()
        requests.post(f"{sde.url}/api/v2/connections/alm/", headers={"Authorization": f"Token {token}"},
                      json={"alias": name, "connector": made["id"], "project": 1, "params": {}}, timeout=10)
        listed = sum(1 for t in sde_app.store.tasks[1].values() if t["accepted"])
        rows: dict[str, Any] = {"system": name, "n": listed}
        for phase in ("first", "again"):
            before, started = sde_requests(sde_app), time.monotonic()
            result = services.run(services.sync_spec("bench"))
            written = result.outcome.data.get("write_back", {})
            changes = int(written.get("statuses", 0)) + int(written.get("references", 0))
            rows[phase] = {"state": result.state, "sde_requests": sde_requests(sde_app) - before,
                           "changes": changes, "created": result.outcome.counts.get("created", 0),
                           "seconds": round(time.monotonic() - started, 2),
                           "bound": math.ceil(listed / MAX_PAGE_SIZE) + 2 * changes + 5}
        settings = services.config.connection_settings("bench")
        adapter = registry.get(name).sync_adapter(settings, HttpFactory(), JobContext())
        adapter.prepare()
        with services.store.session() as s:
            linked = set(s.scalars(select(Link.alm_ref).where(Link.connection_id == settings.id)))
        item = next(i for i in adapter.iter_items() if i.ref in linked and not i.done)  # one of ours, open
        adapter.set_done(item, True)
        adapter.close()
        before, started = sde_requests(sde_app), time.monotonic()
        result = services.run(services.sync_spec("bench"))
        written = result.outcome.data.get("write_back", {})
        changes = int(written.get("statuses", 0)) + int(written.get("references", 0))
        rows["status"] = {"state": result.state, "sde_requests": sde_requests(sde_app) - before, "changes": changes,
                          "seconds": round(time.monotonic() - started, 2),
                          "bound": math.ceil(listed / MAX_PAGE_SIZE) + 2 * changes + 5}
        services.close()
        rows["naive"] = naive(sde.url, token, rows["first"]["created"])
    return rows


def naive(url: str, token: str, creates: int) -> dict[str, Any]:
    """A per-task client against a fresh copy of the same server: list (25 a page), then per task GET
    the task and its references; one reference POST per created item."""
    session = requests.Session()
    session.headers["Authorization"] = f"Token {token}"
    started, count = time.monotonic(), 0
    next_url: str | None = f"{url}/api/v2/projects/1/tasks/"
    ids: list[str] = []
    while next_url:
        page = session.get(next_url, timeout=30).json()
        count += 1
        ids += [t["id"] for t in page["results"]]
        next_url = page["next"]
    for tid in ids:
        session.get(f"{url}/api/v2/projects/1/tasks/{tid}/", timeout=30)
        session.get(f"{url}/api/v2/projects/1/tasks/{tid}/references/", timeout=30)
        count += 2
    count += creates  # one reference POST per created item (not sent: it would change the server)
    return {"sde_requests": count, "seconds": round(time.monotonic() - started, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--only", default=",".join(ALMS))
    args = parser.parse_args()
    print(f"SD Elements requests, server project of {args.n} tasks (page max {MAX_PAGE_SIZE}); bound = "
          "ceil(N/page max) + 2 x changes + 5")
    print(f"{'system':8} {'sync':6} {'state':10} {'N':>5} {'changes':>7} {'SDE req':>7} {'bound':>6} {'s':>6}"
          f"   naive req / s")
    for name in args.only.split(","):
        rows = run_system(name.strip(), args.n)
        for phase in ("first", "again", "status"):
            r = rows[phase]
            naive_text = (f"   {rows['naive']['sde_requests']:>6} / {rows['naive']['seconds']}"
                          if phase == "first" else "")
            print(f"{name:8} {phase:6} {r['state']:10} {rows['n']:>5} {r['changes']:>7} {r['sde_requests']:>7} "
                  f"{r['bound']:>6} {r['seconds']:>6}{naive_text}", flush=True)


if __name__ == "__main__":
    main()
