"""Bench: the release gate over 100,000 matching defects per system — requests and milliseconds.

Run ``.venv/bin/python bench/gate.py [--n 100000] [--only octane,jira] [--runs 3]``. For each system a
loopback sandbox starts with its demo data; a first gate (release + default filters) finds one matching
item, which is then cloned inside the sandbox's own data model until ``--n`` items match (the sandbox
APIs have no bulk insert that fast: 100,000 Octane defects are 500 bulk POSTs, GitHub issues 100,000
POSTs). Then the gate runs ``--runs`` times, each with a fresh HTTP session as a gate job has; printed:
the matching count, the requests of one gate split into look-ups (sign-in, release, phases…) and
**count requests** (target: 1 count request after the look-ups), the gate's wall-clock milliseconds
(median) and how much of it the sandbox itself spent answering (its request handlers, in-process).

GitHub's gate counts with one ``/search/issues`` request (``total_count``, ``per_page=1``); a gate that had
to fall back to listing (one request per 100 open issues) shows it as more than one count request.
``--github-n`` sets a different N for GitHub (default: ``--n``).

Not a test: it prints and asserts nothing. See docs/performance.md for the figures.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from werkzeug.wrappers import Request, Response  # noqa: E402

from almdesk.base.records import GateRequest, GateResult  # noqa: E402
from almdesk.jobs.context import JobContext  # noqa: E402
from almdesk.net.session import HttpFactory  # noqa: E402
from tests.sync.harness import Handler, SyncEnv, Target, intercept, make_registry, real_systems  # noqa: E402

SANDBOX_OPTIONS: dict[str, dict[str, Any]] = {"jira": {"rate_limit": None}, "github": {"primary_limit": 10**9}}
RELEASE = {"octane": "Release 24.1", "jira": "1.0", "github": "v1.0", "rally": "2024 Q2"}


def is_count_request(system: str, method: str, path: str) -> bool:
    """Requests that read the counted defects/issues (the rest are look-ups and session calls)."""
    if system == "octane":
        return method == "GET" and path.split("?")[0].endswith("/defects")
    if system == "jira":
        return "approximate-count" in path or (method == "GET" and path.split("?")[0].endswith("/search"))
    if system == "github":  # the search, or a listing of open issues if the gate fell back to it
        return method == "GET" and path.split("?")[0].endswith(("/search/issues", "/issues"))
    return method == "GET" and path.split("?")[0].lower().endswith("/defect")


# --- making N items match, inside each sandbox's data model -------------------------------------------

def clone_octane(app: Any, example_id: str, copies: int) -> None:
    for ws in app.site.workspaces.values():
        item = ws.of_type("work_item").get(example_id)
        if item is not None:
            for i in range(copies):
                ws.add("work_item", {**item, "id": ws.new_id(), "name": f"Bench defect {i}"})
            return
    raise LookupError(example_id)


def clone_jira(app: Any, example_key: str, copies: int) -> None:
    data = app.data
    issue = data.issues[data.by_key[example_key]]
    project = data.projects[issue.project]
    for i in range(copies):
        project.counter += 1
        data.next_issue_id += 1
        twin = dataclasses.replace(issue, id=data.next_issue_id, key=f"{project.key}-{project.counter}",
                                   summary=f"Bench issue {i}", labels=list(issue.labels),
                                   fix_versions=list(issue.fix_versions), custom=dict(issue.custom))
        data.issues[twin.id] = twin
        data.by_key[twin.key] = twin.id


def clone_github(app: Any, example_number: str, copies: int) -> None:
    for repo in app.world.repos.values():
        issue = repo.issues.get(int(example_number.lstrip("#")))
        if issue is not None and repo.name == "webapp":
            for i in range(copies):
                number = repo.next_number
                repo.next_number += 1
                repo.issues[number] = dataclasses.replace(issue, id=app.world.new_id(), number=number,
                                                          title=f"Bench issue {i}", labels=list(issue.labels))
            return
    raise LookupError(example_number)


def clone_rally(app: Any, example_oid: str, copies: int) -> None:
    store = app.store
    obj = store.objects[int(example_oid)]
    skip = {"_type", "_version", "_seq", "ObjectID", "ObjectUUID", "CreationDate", "FormattedID"}
    fields = {k: v for k, v in obj.items() if k not in skip}
    for i in range(copies):
        store.insert("Defect", {**fields, "Name": f"Bench defect {i}", "Tags": list(fields.get("Tags") or [])},
                     created=obj.get("CreationDate"))


CLONE: dict[str, Callable[[Any, str, int], None]] = {"octane": clone_octane, "jira": clone_jira,
                                                     "github": clone_github, "rally": clone_rally}


# --- measuring ----------------------------------------------------------------------------------------

@dataclass
class ServerClock:
    """Sandbox hook: how long the sandbox's own handlers took, and which requests came."""

    system: str
    seconds: float = 0.0
    log: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, request: Request, call: Handler) -> Response:
        started = time.perf_counter()
        response = call(request)
        with self.lock:
            self.seconds += time.perf_counter() - started
            self.log.append((request.method, request.full_path))
        return response

    def reset(self) -> None:
        with self.lock:
            self.seconds, self.log = 0.0, []


@dataclass
class GateFigures:
    system: str
    matching: int = 0
    requests: int = 0
    lookups: int = 0
    counts: int = 0
    ms: list[float] = field(default_factory=list)
    server_ms: list[float] = field(default_factory=list)
    first_page_ms: float = 0.0
    setup_s: float = 0.0
    note: str = ""


def run_gate(env: SyncEnv, alias: str, system: str) -> tuple[GateResult, float]:
    settings = env.settings(alias)
    http = HttpFactory(settings.connector.network)
    started = time.perf_counter()
    result = env.target.system.gate(settings, GateRequest(release=RELEASE[system], threshold=0, operator=">="),
                                    http, JobContext())
    return result, (time.perf_counter() - started) * 1000


def bench_system(system: str, n: int, runs: int, tmp: Path) -> GateFigures:
    registry = make_registry()
    figures = GateFigures(system)
    started = time.perf_counter()
    target = Target.start(system, registry, **SANDBOX_OPTIONS.get(system, {}))
    try:
        env = SyncEnv(tmp, target, registry)
        alias = env.connection(env.project())
        first, _ = run_gate(env, alias, system)
        assert first.items is not None and first.count > 0, f"{system}: no matching item to clone"
        example = first.items(0, 1)[0]
        with target.app.lock:
            CLONE[system](target.app, example.id if system in ("octane", "rally") else example.key,
                          max(0, n - first.count))
        figures.setup_s = time.perf_counter() - started
        clock = ServerClock(system)
        intercept(target.app, clock)
        for _ in range(runs):
            clock.reset()
            result, ms = run_gate(env, alias, system)
            figures.ms.append(ms)
            figures.server_ms.append(clock.seconds * 1000)
            figures.matching = result.count
            figures.requests = len(clock.log)
            figures.counts = sum(is_count_request(system, m, p) for m, p in clock.log)
            figures.lookups = figures.requests - figures.counts
        assert result.items is not None
        page_started = time.perf_counter()
        result.items(0, 50)
        figures.first_page_ms = (time.perf_counter() - page_started) * 1000
        if figures.counts > 1:
            figures.note = (f"{figures.counts} count requests for {figures.matching:,}: the gate fell back to "
                            "listing the open issues (see the job log for why)")
    finally:
        target.stop()
    return figures


def main(argv: list[str] | None = None) -> int:
    import tempfile

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="matching defects per system (default 100000)")
    parser.add_argument("--runs", type=int, default=3, help="gate runs per system; the median is printed")
    parser.add_argument("--only", default="", help="comma-separated systems (default: all four)")
    parser.add_argument("--github-n", type=int, default=0, help="matching issues for GitHub (default: --n)")
    args = parser.parse_args(argv)
    systems = [s for s in real_systems() if not args.only or s in args.only.split(",")]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else -1.0
    print(f"almdesk gate bench: {args.n:,} matching items, {args.runs} runs, {os.cpu_count()} CPUs, "
          f"Python {sys.version.split()[0]}, load average {load:.1f}")
    rows = []
    for name in systems:
        n = args.github_n if name == "github" and args.github_n > 0 else args.n
        print(f"… {name}: seeding {n:,} matching items", file=sys.stderr, flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            rows.append(bench_system(name, n, args.runs, Path(tmp)))
    head = (f"{'system':8} {'matching':>9} {'requests':>8} {'look-ups':>8} {'count req':>9} {'gate ms':>8} "
            f"{'sandbox ms':>10} {'client ms':>9} {'1st page ms':>11} | target (1 count request)")
    print(head)
    print("-" * len(head))
    for f in rows:
        ms, server = statistics.median(f.ms), statistics.median(f.server_ms)
        verdict = "ok" if f.counts == 1 else f"MISSED ({f.counts} requests)"
        print(f"{f.system:8} {f.matching:>9,} {f.requests:>8} {f.lookups:>8} {f.counts:>9} {ms:>8.0f} {server:>10.0f} "
              f"{ms - server:>9.0f} {f.first_page_ms:>11.0f} | {verdict}")
    for f in rows:
        if f.note:
            print(f"  {f.system}: {f.note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
