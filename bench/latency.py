"""Bench: serial round trips of a sync on a slow network, against the physical limit and a naive client.

Run ``.venv/bin/python bench/latency.py [--n 1000] [--latency 0.05] [--server-cost 0.001] [--only jira,rally]``.
Per system it runs the engine's sync of N new tasks (create) and the no-op re-sync twice, against a
fresh loopback sandbox each time: once with no latency, once with the sandbox waiting ``--latency`` S
seconds before every answer (both with the same ``--server-cost`` per bulk-written item). A round trip
that waits for the one before it adds S to the wall time; requests in flight together add S once. So

    serial round trips = (T at latency S − T at latency 0) / S

and the physical limit, with c the requests the vendor allows at once (the adapter's ``concurrency``),
is ceil(bulk requests / c) + ceil(pages / c) + the look-ups that must come first (:data:`FIRST`:
the settings' resolution, a once-per-sync read or tag the first chunk makes, a sign-out). Jira Cloud's
search pages by token (each page names the next), so its pages count one by one.

The naive client is the same engine made per-task and serial (one create per request, one request in
flight), measured the same way; ``--naive-n`` caps its N (it is strictly serial: above the cap each task
more adds one request and one round trip to the measured figures, marked ``≈``).
Targets (issue 19): serial round trips ≤ limit + 8; ≥ 50× fewer than the naive client at N = 5,000.
GitHub stays serial for writes (its docs ask for one write at a time) and runs with ``--github-n``
(default 450: 500 writes an hour). Not a test: it prints, it asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import math
import os
import statistics
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

_spec = importlib.util.spec_from_file_location("bench_sync", ROOT / "bench" / "sync.py")
assert _spec is not None and _spec.loader is not None
bench_sync: Any = importlib.util.module_from_spec(_spec)
sys.modules["bench_sync"] = bench_sync  # dataclasses look their module up there
_spec.loader.exec_module(bench_sync)

from tests.sync.harness import real_systems  # noqa: E402

# Round trips that must come one after another before (or after) the overlapped writes, per system:
#   jira      project, statuses, create screen (no serverInfo: the connector names the deployment);
#             the status new issues start in, read from the first chunk's first issue
#   octane    sign-in, phases (the user look-up in flight with them); the context mark's user tag made by
#             the first chunk; sign-out
#   rally     workspace, one /batch of look-ups, the status attribute, its allowed values; the mark's tag
#   github    the repository
#   toyalm    who-am-I
FIRST = {"jira": 3 + 1, "jira-dc": 3 + 1, "octane": 2 + 1 + 1, "rally": 4 + 1, "github": 1, "toyalm": 1}
FIRST_NOOP = {"jira": 3, "jira-dc": 3, "octane": 2 + 1, "rally": 4, "github": 1, "toyalm": 1}
TOKEN_PAGED = {"jira"}  # each page names the next: pages cannot overlap
SLACK = 8  # issue 19: serial round trips within the physical limit + 8
NAIVE_FACTOR = 50  # issue 19: at least 50× fewer serial round trips than the naive client at N = 5,000
NAIVE_ADAPTERS = {"jira": "almdesk.systems.jira.sync:JiraSyncAdapter",
                  "jira-dc": "almdesk.systems.jira.sync:JiraSyncAdapter",
                  "octane": "almdesk.systems.octane.sync:OctaneSyncAdapter",
                  "rally": "almdesk.systems.rally.sync:RallySyncAdapter",
                  "github": "almdesk.systems.github.sync:GitHubSyncAdapter"}


@dataclass
class Row:
    system: str
    n: int
    bulk: int
    page: int
    width: int
    requests: int
    t0: float
    ts: float
    noop_requests: int
    noop_t0: float
    noop_ts: float
    naive_requests: int | None = None
    naive_serial: float | None = None
    naive_scaled: bool = False
    note: str = ""

    def serial(self, s: float) -> float:
        return (self.ts - self.t0) / s

    def noop_serial(self, s: float) -> float:
        return (self.noop_ts - self.noop_t0) / s

    def limit(self) -> int:
        bulk_requests = self.n if self.system == "github" else math.ceil(self.n / self.bulk)
        return math.ceil(bulk_requests / self.width) + 1 + FIRST.get(self.system, 0)  # + the (empty) listing

    def noop_limit(self) -> int:
        listed = self.n  # the re-sync lists the N new items (and what the sandbox had: a page at most)
        pages = max(1, math.ceil(listed / self.page))
        width = 1 if self.system in TOKEN_PAGED else self.width
        return math.ceil(pages / width) + FIRST_NOOP.get(self.system, 0)


@contextlib.contextmanager
def naive(system: str) -> Iterator[None]:
    """The engine as a naive client: one create a request, one request in flight."""
    where = NAIVE_ADAPTERS.get(system)
    if where is None:
        yield
        return
    module, _, name = where.partition(":")
    cls = getattr(importlib.import_module(module), name)
    saved = cls.bulk_size, getattr(cls, "concurrency", 1)
    cls.bulk_size, cls.concurrency = 1, 1
    try:
        yield
    finally:
        cls.bulk_size, cls.concurrency = saved


def measure(name: str, n: int, latency: float, cost: float) -> Any:
    with tempfile.TemporaryDirectory() as tmp:
        return bench_sync.run_engine(name, n, Path(tmp), 1, latency, cost)


def median_of(name: str, n: int, latency: float, cost: float, repeat: int) -> Any:
    """The figures of ``repeat`` runs, with the median create and re-sync times (a busy 2-core box is noisy)."""
    runs = [measure(name, n, latency, cost) for _ in range(max(1, repeat))]
    first = runs[0]
    first.create_seconds = statistics.median(r.create_seconds for r in runs)
    first.noop_seconds = statistics.median(r.noop_seconds for r in runs)
    first.created = min(r.created for r in runs)
    return first


def run(name: str, n: int, s: float, cost: float, naive_n: int, naive_s: float, repeat: int = 3) -> Row:
    print(f"… {name}: N={n} at 0 s and at {s} s, {repeat} runs each", file=sys.stderr, flush=True)
    zero, slow = median_of(name, n, 0.0, cost, repeat), median_of(name, n, s, cost, repeat)
    adapter = NAIVE_ADAPTERS.get(name)
    width = 1
    if adapter:
        module, _, cls = adapter.partition(":")
        width = int(getattr(getattr(importlib.import_module(module), cls), "concurrency", 1))
    row = Row(name, n, zero.bulk, zero.page, width, slow.create_requests, zero.create_seconds, slow.create_seconds,
              slow.noop_requests, zero.noop_seconds, slow.noop_seconds)
    if slow.created != n or zero.created != n:
        row.note += f"created {zero.created}/{slow.created} of {n}. "
    if name != "github" and naive_n > 0:
        m = min(n, naive_n)
        print(f"… {name}: naive N={m} at 0 s and at {naive_s} s", file=sys.stderr, flush=True)
        with naive(name):
            nz, ns = measure(name, m, 0.0, cost), measure(name, m, naive_s, cost)
        # each task more is one more create, sent after the one before: one request, one round trip
        row.naive_requests = ns.create_requests + (n - m)
        row.naive_serial = (ns.create_seconds - nz.create_seconds) / naive_s + (n - m)
        row.naive_scaled = m != n
        if m != n:
            row.note += f"naive measured at N={m} ({ns.create_requests} requests), scaled to {n}. "
    return row


def print_table(rows: list[Row], s: float, cost: float) -> None:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else -1.0
    print(f"latency {s} s an answer, server cost {cost} s a bulk-written item (both runs); load average {load:.1f}")
    head = (f"{'system':8} {'N':>5} {'bulk':>4} {'c':>2} | {'req':>5} {'T0 s':>6} {'TS s':>7} {'serial':>6} "
            f"{'limit':>5} {'ok':>3} | {'re-sync req':>11} {'serial':>6} {'limit':>5} {'ok':>3} | "
            f"{'naive req':>9} {'serial':>7} {'×fewer':>7}")
    print(head)
    print("-" * len(head))
    for r in rows:
        serial, noop = r.serial(s), r.noop_serial(s)
        ok = "ok" if serial <= r.limit() + SLACK else "NO"
        noop_ok = "ok" if noop <= r.noop_limit() + SLACK else "NO"
        naive_cols = "" if r.naive_serial is None else (
            f"{('≈' if r.naive_scaled else '') + str(r.naive_requests):>9} {r.naive_serial:>7.0f} "
            f"{r.naive_serial / max(serial, 1e-9):>6.0f}×")
        print(f"{r.system:8} {r.n:>5} {r.bulk:>4} {r.width:>2} | {r.requests:>5} {r.t0:>6.2f} {r.ts:>7.2f} "
              f"{serial:>6.1f} {r.limit():>5} {ok:>3} | {r.noop_requests:>11} {noop:>6.1f} {r.noop_limit():>5} "
              f"{noop_ok:>3} | {naive_cols}")
    for r in rows:
        if r.note:
            print(f"  {r.system}: {r.note}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="new tasks per system (default 1000)")
    parser.add_argument("--github-n", type=int, default=450, help="new tasks for GitHub (≤ 500 writes an hour)")
    parser.add_argument("--latency", type=float, default=0.05, metavar="SECONDS", help="S (default 0.05)")
    parser.add_argument("--server-cost", type=float, default=0.0, metavar="SECONDS",
                        help="seconds the sandbox spends per bulk-written item (both runs)")
    parser.add_argument("--naive-n", type=int, default=1000, help="cap on the naive client's N (0: skip it)")
    parser.add_argument("--naive-latency", type=float, default=None, metavar="SECONDS",
                        help="S for the naive client (default: --latency)")
    parser.add_argument("--repeat", type=int, default=3, help="engine runs per latency; the median is used (3)")
    parser.add_argument("--only", default="", help="comma-separated systems (default: the real ones)")
    args = parser.parse_args(argv)
    systems = real_systems()
    if "jira" in systems:
        systems.insert(systems.index("jira") + 1, "jira-dc")
    if args.only:
        systems = [s for s in systems if s in args.only.split(",")]
    rows = [run(name, min(args.n, args.github_n) if name == "github" else args.n, args.latency, args.server_cost,
                args.naive_n, args.naive_latency or args.latency, args.repeat) for name in systems]
    print_table(rows, args.latency, args.server_cost)
    return 0


if __name__ == "__main__":
    sys.exit(main())
