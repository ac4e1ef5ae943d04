"""Long fault soak and crash soak across the four systems, printing a report.

Run ``.venv/bin/python bench/soak.py [--fault-syncs 200] [--kills 50] [--only octane,jira] [--seed 1]``.

* Fault soak: ``--fault-syncs`` syncs split across the systems, the sandbox injecting
  ``500:0.03,429:0.03,reset:0.02,slow:0.01,expire:0.01`` (~10 %), 429 with a real ``Retry-After: 1``,
  slow answers of 1.5 s against the connector's 1 s timeout. Each sync adds tasks and flips some
  (conflict policy ``sde``); then faults stop and syncs run until nothing changes. Reported:
  duplicates, lost tasks, wrong done states and crashes (targets 0, 0, 0, 0).
* Crash soak: ``--kills`` SIGKILLs of the sync's child process at random requests (before the server
  handles it, after it, or 1–50 ms after), ``PRAGMA integrity_check`` after each, then a resume.
  Reported: integrity ok / kills (target 50/50), resume failures, duplicates and lost tasks (target 0).

Not a test: it prints; the exit code is 1 when a target is missed. The short versions run in CI
(tests/soak). See docs/performance.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.soak.soaklib import FAULT_SPEC, CrashReport, FaultReport, crash_soak, fault_soak  # noqa: E402
from tests.sync.harness import BULK_ENV, apply_bulk_override, make_registry, real_systems  # noqa: E402


def split(total: int, parts: list[str]) -> dict[str, int]:
    base, extra = divmod(total, len(parts))
    return {name: base + (1 if i < extra else 0) for i, name in enumerate(parts)}


def log(message: str) -> None:
    print(f"  … {message}", file=sys.stderr, flush=True)


def print_fault(rows: list[FaultReport], patient: bool) -> bool:
    print(f"\nFault soak ({FAULT_SPEC}; Retry-After 1 s; slow = 1.5 s vs 1 s timeout; "
          f"{'patient' if patient else 'back to back'})")
    head = (f"{'system':8} {'syncs':>5} {'ok':>4} {'failed':>6} {'crash':>5} {'tasks':>5} {'dup':>4} {'lost':>4} "
            f"{'wrong':>5} {'settle':>6} {'waiting':>7} {'integrity':>9} {'requests':>8} {'s':>7}  faults injected")
    print(head)
    print("-" * len(head))
    for r in rows:
        c = r.check
        faults = ", ".join(f"{k} {v}" for k, v in sorted(r.faults.items()))
        print(f"{r.system:8} {r.syncs:>5} {r.succeeded:>4} {r.failed:>6} {len(r.crashes):>5} {r.tasks:>5} "
              f"{c.duplicates:>4} {c.lost:>4} {c.wrong_done:>5} {r.settle_syncs:>6} {r.waiting:>7} {c.integrity:>9} "
              f"{r.requests:>8} {r.seconds:>7.1f}  {faults}")
    total = FaultReport("total", syncs=sum(r.syncs for r in rows), succeeded=sum(r.succeeded for r in rows),
                        failed=sum(r.failed for r in rows))
    dup = sum(r.check.duplicates for r in rows)
    lost = sum(r.check.lost for r in rows)
    wrong = sum(r.check.wrong_done for r in rows)
    crashes = [c for r in rows for c in r.crashes]
    injected = sum(sum(r.faults.values()) for r in rows)
    requests = sum(r.requests for r in rows)
    print(f"{'total':8} {total.syncs:>5} {total.succeeded:>4} {total.failed:>6} {len(crashes):>5} "
          f"{sum(r.tasks for r in rows):>5} {dup:>4} {lost:>4} {wrong:>5}")
    print(f"duplicates {dup}, lost {lost}, crashes {len(crashes)} (targets 0, 0, 0); wrong done states {wrong}; "
          f"{injected} faults in {requests} requests ({100 * injected / max(1, requests):.1f} %); "
          f"{sum(r.waiting for r in rows)} task-syncs waiting for an unknown-fate create")
    for r in rows:
        for line in r.crashes[:5] + r.check.examples[:5]:
            print(f"  {r.system}: {line}")
        if not r.converged:
            print(f"  {r.system}: did not settle after faults stopped")
    return dup == lost == wrong == 0 and not crashes and all(r.converged for r in rows)


def print_crash(rows: list[CrashReport]) -> bool:
    print("\nCrash soak (SIGKILL of the sync process at random requests, then resume)")
    head = (f"{'system':8} {'kills':>5} {'integrity ok':>12} {'resumed ok':>10} {'tasks':>5} {'dup':>4} {'lost':>4} "
            f"{'wrong':>5} {'journal':>7} {'s':>7}")
    print(head)
    print("-" * len(head))
    for r in rows:
        print(f"{r.system:8} {r.kills:>5} {r.integrity_ok:>12} {r.resumes - len(r.resume_failures):>10} "
              f"{r.tasks:>5} {r.duplicates:>4} {r.lost:>4} {r.wrong_done:>5} {r.journal_left:>7} {r.seconds:>7.1f}")
    kills = sum(r.kills for r in rows)
    ok = sum(r.integrity_ok for r in rows)
    dup = sum(r.duplicates for r in rows)
    lost = sum(r.lost for r in rows)
    failures = [f for r in rows for f in r.resume_failures]
    print(f"kills {kills}: integrity_check ok {ok}/{kills}, duplicates {dup}, lost {lost}, resume failures "
          f"{len(failures)} (targets {kills}/{kills}, 0, 0, 0)")
    where: dict[str, int] = {}
    for r in rows:
        for p in r.points:  # "request 3 after +5 ms = GET /path"
            kind = p.split(" = ")[0].split(" ")[2] + (" +delay" if "+" in p.split(" = ")[0] else "")
            where[kind] = where.get(kind, 0) + 1
    print("kill points: " + ", ".join(f"{k} {v}" for k, v in sorted(where.items())))
    for r in rows:
        for line in r.integrity_bad + failures[:5] + r.examples[:5]:
            print(f"  {r.system}: {line}")
    return ok == kills and dup == lost == 0 and not failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fault-syncs", type=int, default=200, help="syncs under faults, all systems (200)")
    parser.add_argument("--kills", type=int, default=50, help="SIGKILLs, all systems (50)")
    parser.add_argument("--only", default="", help="comma-separated systems (default: all four)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--retry-after", type=int, default=1, help="seconds the injected 429s ask to wait (1)")
    parser.add_argument("--patient", action="store_true",
                        help="after a sync with a slowed answer, wait until the server finished it (default: "
                             "back to back, the worst case)")
    parser.add_argument("--bulk", type=int, default=0,
                        help="bulk size of every adapter (e.g. 1: each sync's few creates go as several chunks, "
                             "overlapped up to the adapter's concurrency); default: the adapters' own")
    args = parser.parse_args(argv)
    if args.bulk:
        os.environ[BULK_ENV] = str(args.bulk)  # the crash soak's child processes inherit it
        apply_bulk_override()
    systems = [s for s in real_systems() if not args.only or s in args.only.split(",")]
    registry = make_registry()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else -1.0
    print(f"almdesk soak: {len(systems)} systems ({', '.join(systems)}), seed {args.seed}, {os.cpu_count()} CPUs, "
          f"Python {sys.version.split()[0]}, load average {load:.1f}"
          + (f", bulk size {args.bulk}" if args.bulk else ""))
    started = time.monotonic()
    ok = True
    if args.fault_syncs:
        rows = []
        for name, n in split(args.fault_syncs, systems).items():
            with tempfile.TemporaryDirectory() as tmp:
                rows.append(fault_soak(name, Path(tmp), syncs=n, seed=args.seed, retry_after=args.retry_after,
                                       patient=args.patient, registry=registry, progress=log))
        ok &= print_fault(rows, args.patient)
    if args.kills:
        crash_rows = []
        for name, n in split(args.kills, systems).items():
            with tempfile.TemporaryDirectory() as tmp:
                crash_rows.append(crash_soak(name, Path(tmp), kills=n, seed=args.seed, registry=registry,
                                             progress=log))
        ok &= print_crash(crash_rows)
    print(f"\n{'all targets met' if ok else 'TARGET MISSED'} in {time.monotonic() - started:.0f} s")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
