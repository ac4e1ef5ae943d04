"""Bench: cold start to first paint of the main window, with 1,000 connections and 100,000 job events.

Run ``.venv/bin/python bench/cold_start.py [--connections 1000] [--events 100000] [--runs 5]``. A data
directory is filled once (4 connectors, 100 projects, the connections, one job per connection with
its share of the events; secrets in a throw-away keyring), then each run starts a **fresh Python
process** (``bench/cold_start.py --child DIR``, Qt offscreen) that starts as ``almdesk.app.main`` does:
``Startup`` shows the main window's shell (only PySide6 imported); after its first paint a worker thread
imports the rest, probes the OS keyring and opens the store, then ``App`` is built and the page on screen
filled in the UI thread. Printed per run: process spawn → first paint (target < 1 s) and spawn → first
paint with the page filled, and inside the child: imports, shell built, shown, painted, paint → ready,
and the UI block: the largest gap between the ticks of a 10 ms event-loop timer from the first paint to
ready (how long the shell did not respond). The children may write ``.pyc`` files (as an installed
package has them; ``--no-bytecode`` keeps ``PYTHONDONTWRITEBYTECODE`` and compiles almdesk's modules at
every start).

Not a test: it prints and asserts nothing. See docs/performance.md.
"""

from __future__ import annotations

import time

T0 = time.perf_counter()  # before any import: the child measures its own phases from here

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from itertools import pairwise  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SYSTEM_PARAMS = {
    "octane": {"location": "https://octane.example.com/ui/?p=1001/1002", "client_id": "bench", "user": "a@example.com"},
    "jira": {"url": "https://jira.example.com", "deployment": "cloud", "user": "a@example.com"},
    "github": {"url": "https://api.github.com", "github_repo_owner": "acme"},
    "rally": {"alm_server": "https://rally1.rallydev.com", "auth_method": "api_key"},
}
SECRETS = {"octane": {"client_secret": "x"}, "jira": {"token": "x"}, "github": {"alm_api_token": "x"},
           "rally": {"alm_api_key": "x"}}
CONNECTION_PARAMS = {
    "octane": {"workspace": "1002"},
    "jira": {"alm_project": "DEMO"},
    "github": {"github_repo_owner": "acme", "alm_project": "webapp"},
    "rally": {"rally_workspace": "Acme", "alm_project": "Store"},
}


def fill(data_dir: Path, connections: int, events: int) -> None:
    """A store with ``connections`` connections and ``events`` job events (bulk inserts)."""
    import keyring.backends.fail
    from sqlalchemy import insert, select, update

    from almdesk.models import Connection, Job, JobEventRow
    from almdesk.secrets import SecretStore
    from almdesk.services import Services

    services = Services.open(data_dir, secrets=SecretStore(keyring.backends.fail.Keyring()))
    config = services.config
    templates: dict[str, dict[str, Any]] = {}
    connector_ids: dict[str, int] = {}
    for system, params in SYSTEM_PARAMS.items():
        connector_ids[system] = config.save_connector(f"{system} server", system, params, SECRETS[system])
    projects = [config.add_project(f"Project {i:03d}", "Retail", f"App {i:03d}") for i in range(100)]
    for system in SYSTEM_PARAMS:  # one connection through the real validation, as a template for the rest
        config.save_connection(f"template-{system}", connector_ids[system], "Project 000", CONNECTION_PARAMS[system])
        with services.store.session() as s:
            row = s.scalar(select(Connection).where(Connection.alias == f"template-{system}"))
            assert row is not None
            templates[system] = dict(row.params)
    systems = list(SYSTEM_PARAMS)
    rows = []
    for i in range(connections - len(systems)):
        system = systems[i % len(systems)]
        rows.append({"alias": f"{system}-{i:04d}", "connector_id": connector_ids[system],
                     "project_id": projects[i % len(projects)], "frequency": ("manually", "daily", "weekly")[i % 3],
                     "params": templates[system], "debug_mode": False})
    with services.store.session() as s:
        s.execute(insert(Connection), rows)
    with services.store.session() as s:
        conns = list(s.execute(select(Connection.id, Connection.connector_id)))
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)
    per_job = max(1, events // len(conns))
    with services.store.session() as s:
        s.execute(insert(Job), [{"kind": "sync", "connection_id": cid, "connector_id": kid, "title": f"Sync {cid}",
                                 "state": "succeeded" if cid % 7 else "failed", "succeeded": bool(cid % 7),
                                 "started": now - timedelta(minutes=cid), "last_run": now - timedelta(minutes=cid),
                                 "seconds": 3.5, "result_message": f"{per_job} items", "counts": {"created": per_job}}
                                for cid, kid in conns])
    with services.store.session() as s:
        jobs = list(s.execute(select(Job.id, Job.connection_id)))
        s.execute(update(Connection), [{"id": cid, "last_job_id": jid} for jid, cid in jobs])
    batch: list[dict[str, Any]] = []
    made = 0
    for jid, _cid in jobs:
        for k in range(per_job):
            if made >= events:
                break
            batch.append({"job_id": jid, "time": now.timestamp() - k, "item": f"T{k} Task {k}", "action": "create",
                          "status": "ok", "message": f"created {1000 + k}", "url": f"https://alm.example/{k}"})
            made += 1
        if len(batch) >= 20_000:
            with services.store.session() as s:
                s.execute(insert(JobEventRow), batch)
            batch = []
    if batch:
        with services.store.session() as s:
            s.execute(insert(JobEventRow), batch)
    services.close()


def child(data_dir: str) -> int:
    """In a fresh process, as ``almdesk.app.main`` starts: the window shell is shown and painted, then
    the services are opened and the pages filled (``Startup``). Reports both moments."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication

    from almdesk.app import Startup

    t_imports = time.perf_counter()
    qapp = QApplication([sys.argv[0]])
    startup = Startup(data_dir)
    t_shell = time.perf_counter()
    marks: dict[str, float] = {}

    class Paints(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                now = time.perf_counter()
                if "paint" not in marks:
                    marks["paint"], marks["wall"] = now, time.time()
                elif startup.app is not None and "ready" not in marks:  # first paint with the pages
                    marks["ready"], marks["wall_ready"] = now, time.time()
                    QTimer.singleShot(0, qapp.quit)
            return False

    spy = Paints()
    ticks: list[float] = []  # an event-loop timer from the first paint to ready: its largest gap is the UI block
    beat = QTimer()
    beat.setInterval(10)
    beat.timeout.connect(lambda: ticks.append(time.perf_counter()) if "ready" not in marks else None)
    QTimer.singleShot(0, beat.start)
    startup.window.installEventFilter(spy)
    startup.window.show()
    t_shown = time.perf_counter()
    QTimer.singleShot(30_000, qapp.quit)
    qapp.exec()
    app = startup.app
    rows = len(app.services.config.connections()) if app else -1
    nan = float("nan")
    beats = [marks["paint"], *(t for t in ticks if t > marks["paint"])] if "paint" in marks else []
    if "ready" in marks:
        beats.append(marks["ready"])
    block = max((b - a for a, b in pairwise(beats)), default=nan)
    print(json.dumps({"imports": t_imports - T0, "shell": t_shell - t_imports, "show": t_shown - t_shell,
                      "painted": marks.get("paint", nan) - t_shown, "to_paint": marks.get("paint", nan) - T0,
                      "ready": marks.get("ready", nan) - marks.get("paint", nan), "to_ready": marks.get("ready", nan) - T0,
                      "wall_paint": marks.get("wall", 0.0), "wall_ready": marks.get("wall_ready", 0.0),
                      "block": block, "connections": rows, "keyring": app.services.secrets.backend_name if app else "?"}))
    if app:
        app.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-bytecode", action="store_true",
                        help="keep PYTHONDONTWRITEBYTECODE as it is (almdesk's modules compiled at every start)")
    parser.add_argument("--child", metavar="DIR", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else -1.0
    print(f"almdesk cold start: {args.connections:,} connections, {args.events:,} job events; {os.cpu_count()} CPUs, "
          f"Python {sys.version.split()[0]}, load average {load:.1f}"
          + ("; almdesk compiled from source at every start" if args.no_bytecode else "; .pyc files written first"))
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        started = time.perf_counter()
        fill(data_dir, args.connections, args.events)
        db = data_dir / "almdesk.db"
        size = sum(p.stat().st_size for p in data_dir.glob("almdesk.db*"))
        print(f"store filled in {time.perf_counter() - started:.1f} s ({size / 1e6:.0f} MB: {db.name} + WAL)")
        head = (f"{'run':>3} {'spawn→paint':>11} {'spawn→ready':>11} | {'imports':>7} {'shell':>6} {'show':>6} "
                f"{'painted':>7} {'paint→ready':>11} {'UI block':>8} (s, inside the child) | target < 1 s to first paint")
        print(head)
        print("-" * len(head))
        totals: list[float] = []
        readies: list[float] = []
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
        if not args.no_bytecode:
            # an installed almdesk has its .pyc files (pip compiles them); a checkout run with
            # PYTHONDONTWRITEBYTECODE=1 would compile ~60 of its modules at every start (0.15-0.4 s)
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "almdesk")], check=False,
                           capture_output=True, env=env)
        for i in range(args.runs):
            spawned = time.time()
            proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", str(data_dir)],
                                  cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
            if proc.returncode != 0 or not proc.stdout.strip():
                print(f"{i + 1:>3} child failed: {proc.stderr[-1500:]}")
                continue
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            total = r["wall_paint"] - spawned
            ready = r["wall_ready"] - spawned
            totals.append(total)
            readies.append(ready)
            verdict = "ok" if total < 1 else f"MISSED by {total - 1:.2f} s"
            print(f"{i + 1:>3} {total:>10.2f}s {ready:>10.2f}s | {r['imports']:>7.2f} {r['shell']:>6.2f} "
                  f"{r['show']:>6.2f} {r['painted']:>7.2f} {r['ready']:>11.2f} {r['block']:>8.2f} | {verdict}   "
                  f"({r['connections']} connections, keyring: {r['keyring']})")
        if totals:
            print(f"median spawn→first paint {statistics.median(totals):.2f} s, best {min(totals):.2f} s; "
                  f"spawn→pages filled: median {statistics.median(readies):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
