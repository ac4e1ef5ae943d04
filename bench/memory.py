"""Bench: peak memory of a headless sync of 50,000 tasks, measured in a child process.

Run ``.venv/bin/python bench/memory.py [--n 50000] [--only octane,jira,rally,github]``. For each system
the sandbox runs in this process and the store (N tasks, all in scope) is prepared here; the sync
itself runs in a fresh child (``bench/memory.py --child``, the way ``almdesk sync`` runs), which
reports its peak resident set (``VmHWM``), the peak right after its imports, and — in a
third run with ``tracemalloc`` on — the peak of Python allocations. Three child runs per system:
the first sync (N creations), a no-op re-sync, and the no-op re-sync again under tracemalloc.
Target: < 200 MB. ``--mmap-threshold N`` runs the children with glibc's ``MALLOC_MMAP_THRESHOLD_=N``
(to tell heap fragmentation from real use; see docs/performance.md). GitHub is left out by default: it has no bulk create, so 50,000 issues are 50,000
POSTs (pass ``--only github`` to run it anyway).

Not a test: it prints and asserts nothing. See docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MB = 1024 * 1024


def peak_rss() -> int:
    """This process's peak resident set in bytes: VmHWM on Linux (``ru_maxrss`` keeps the high-water mark of
    the parent the child was forked from, across exec), ``ru_maxrss`` elsewhere."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def child(db: str, alias: str, trace: bool) -> int:
    """Run one sync of ``alias`` in this (fresh) process; print memory figures as JSON.

    With tracing and ``ALMDESK_MEM_TOP=N`` the N biggest allocation sites at the traced peak go to stderr.
    """
    top = int(os.environ.get("ALMDESK_MEM_TOP", "0") or 0)
    if trace:
        import tracemalloc

        tracemalloc.start(8 if top else 1)
        if top:
            import threading

            def sample() -> None:  # snapshot whenever the traced total reaches a new high
                best = 0
                while True:
                    time.sleep(0.5)
                    current = tracemalloc.get_traced_memory()[0]
                    if current > best * 1.05:
                        best = current
                        snap = tracemalloc.take_snapshot()
                        lines = [f"at {current / MB:.0f} MB traced:"]
                        for stat in snap.statistics("traceback")[:top]:
                            lines.append(f"  {stat.size / MB:7.1f} MB {stat.count:>8} blocks")
                            lines.extend(f"      {frame}" for frame in stat.traceback.format()[-6:])
                        child.top_report = "\n".join(lines)  # type: ignore[attr-defined]

            threading.Thread(target=sample, daemon=True).start()
    from almdesk.jobs.record import run_recorded
    from tests.sync.sync_child import prepare

    rss_imports = peak_rss()
    store, spec, http = prepare(db, alias, sys.stdin.read())
    started = time.perf_counter()
    result = run_recorded(store, spec)
    seconds = time.perf_counter() - started
    out: dict[str, Any] = {"state": result.state, "message": result.outcome.message,
                           "counts": result.outcome.counts, "seconds": seconds, "requests": http.requests,
                           "rss_imports": rss_imports,
                           "rss_peak": peak_rss()}
    if trace:
        import tracemalloc

        out["traced_peak"] = tracemalloc.get_traced_memory()[1]
        if top:
            print(getattr(child, "top_report", ""), file=sys.stderr)
    print(json.dumps(out))
    store.close()
    return 0


def run_child(db: Path, alias: str, secrets: dict[str, str], trace: bool = False,
              env: dict[str, str] | None = None) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(db), alias] + (["--trace"] if trace else [])
    proc = subprocess.run(cmd, cwd=ROOT, input=json.dumps(secrets), capture_output=True, text=True, timeout=3600,
                          env={**os.environ, **(env or {})})
    if proc.returncode != 0 or not proc.stdout.strip():
        raise RuntimeError(f"child failed ({proc.returncode}): {proc.stderr[-2000:]}")
    parsed: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return parsed


def bench_system(name: str, n: int, tmp: Path, child_env: dict[str, str] | None = None) -> dict[str, Any]:
    from bench.sync import SANDBOX_OPTIONS, bench_tasks, scope_all
    from tests.sync.harness import SyncEnv, Target, make_registry

    registry = make_registry()
    target = Target.start(name, registry, **SANDBOX_OPTIONS.get(name, {}))
    try:
        env = SyncEnv(tmp, target, registry)
        project = env.project(bench_tasks(n))
        alias = env.connection(project, **scope_all())
        uid = env.config.connector(env.connector).uid
        secrets = {f"{uid}/{k}": v for k, v in target.info["secrets"].items()}
        env.store.close()
        runs = {"create": run_child(env.store.path, alias, secrets, env=child_env),
                "no-op": run_child(env.store.path, alias, secrets, env=child_env),
                "no-op traced": run_child(env.store.path, alias, secrets, trace=True, env=child_env)}
        return runs
    finally:
        target.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=50_000, help="tasks (default 50000)")
    parser.add_argument("--only", default="octane,jira,rally", help="systems (default: octane,jira,rally)")
    parser.add_argument("--child", nargs=2, metavar=("DB", "ALIAS"), help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--mmap-threshold", type=int, default=0,
                        help="glibc: MALLOC_MMAP_THRESHOLD_ for the children")
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child[0], args.child[1], args.trace)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else -1.0
    print(f"almdesk memory bench: headless sync of {args.n:,} tasks in a child process; {os.cpu_count()} CPUs, "
          f"Python {sys.version.split()[0]}, load average {load:.1f}")
    head = (f"{'system':8} {'run':13} {'state':9} {'created':>7} {'unchanged':>9} {'requests':>8} {'s':>7} "
            f"{'RSS after imports':>17} {'peak RSS':>9} {'traced peak':>11} | target < 200 MB")
    print(head)
    print("-" * len(head))
    child_env: dict[str, str] = {}
    if args.mmap_threshold:
        child_env["MALLOC_MMAP_THRESHOLD_"] = str(args.mmap_threshold)
    for name in args.only.split(","):
        print(f"… {name}: preparing {args.n:,} tasks and syncing", file=sys.stderr, flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            runs = bench_system(name, args.n, Path(tmp), child_env or None)
        for run, r in runs.items():
            c = r["counts"]
            traced = f"{r['traced_peak'] / MB:>9.0f} MB" if "traced_peak" in r else f"{'-':>11}"
            verdict = "ok" if r["rss_peak"] < 200 * MB else f"MISSED by {(r['rss_peak'] / MB) - 200:.0f} MB"
            if "traced_peak" in r:
                verdict = "(RSS inflated by tracemalloc itself)"
            print(f"{name:8} {run:13} {r['state']:9} {c.get('created', 0):>7} {c.get('unchanged', 0):>9} "
                  f"{r['requests']:>8} {r['seconds']:>7.1f} {r['rss_imports'] / MB:>14.0f} MB "
                  f"{r['rss_peak'] / MB:>6.0f} MB {traced} | {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
