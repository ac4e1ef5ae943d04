"""Bench: the largest event-loop stall of the GUI while a 5,000-task sync runs in it.

Run ``.venv/bin/python bench/ui_stall.py [--n 5000] [--only octane,jira,rally,github] [--github-n 450]``.
The sandbox runs in **another process** (``almdesk sandbox --only SYSTEM``, as a real server would be
elsewhere: its threads do not compete for this process's GIL). Here, offscreen: the app's ``App``
(services, job runner, ``MainWindow``) over a fresh data directory with one connector, a project of N
tasks (all in scope) and a connection; the sync is opened the way *Sync Now* opens it (a
``SyncConsole`` over ``services.sync_spec``), then a no-op re-sync the same way. A 5 ms ``QTimer``
records the gap between its ticks (wall time) and the UI thread's own CPU time between ticks; the
largest gap is the longest the window could not react. Target: < 50 ms.

After ``window.show()`` the bench calls ``almdesk.app.settle_gc()`` as ``almdesk.app.main`` does
(gc.freeze, gen-0 threshold, 1 ms switch interval; ``--no-settle-gc`` leaves it out, to see what it
buys; ``--switch-interval S`` overrides the interval). ``--profile-ui`` prints the UI thread's
slowest ticks with a cProfile of each (the Python under them, and the Qt calls they made).

Not a test: it prints and asserts nothing. See docs/performance.md.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

TICK_MS = 5


@dataclass
class GcClock:
    """The longest garbage collection (any thread): a pause every thread waits for."""

    longest: float = 0.0
    generation: int = -1
    _started: float = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        elif self._started:
            took = time.perf_counter() - self._started
            if took > self.longest:
                self.longest, self.generation = took, int(info.get("generation", -1))


@dataclass
class Probe:
    """Tick-gap probe: wall-clock gaps and UI-thread CPU between 5 ms ticks (``profile``: a cProfile of
    each tick, the slowest kept)."""

    gaps: list[float] = field(default_factory=list)
    busy: list[float] = field(default_factory=list)
    last: tuple[float, float] = (0.0, 0.0)
    profile: bool = False
    slow: list[tuple[float, float, str]] = field(default_factory=list)
    _prof: Any = None

    def start(self) -> None:
        self.last = (time.monotonic(), time.thread_time())
        self._restart()

    def _restart(self) -> None:
        if self.profile:
            import cProfile

            self._prof = cProfile.Profile()
            self._prof.enable()

    def tick(self) -> None:
        now, cpu = time.monotonic(), time.thread_time()
        gap, busy = now - self.last[0], cpu - self.last[1]
        self.gaps.append(gap)
        self.busy.append(busy)
        if self._prof is not None:
            self._prof.disable()
            if busy > 0.02:
                import io
                import pstats

                out = io.StringIO()
                pstats.Stats(self._prof, stream=out).sort_stats("cumulative").print_stats(18)
                self.slow.append((busy, gap, out.getvalue()))
                self.slow = sorted(self.slow, reverse=True)[:3]
            self._restart()
        self.last = (time.monotonic(), time.thread_time())

    def stop(self) -> None:
        if self._prof is not None:
            self._prof.disable()
            self._prof = None

    def summary(self) -> dict[str, float]:
        gaps = sorted(self.gaps) or [0.0]
        return {"max_ms": gaps[-1] * 1000, "p99_ms": gaps[int(0.99 * (len(gaps) - 1))] * 1000,
                "median_ms": statistics.median(gaps) * 1000, "over_50": sum(g > 0.05 for g in gaps),
                "ticks": len(self.gaps), "busy_max_ms": max(self.busy or [0.0]) * 1000}


def start_sandbox(system: str) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    proc = subprocess.Popen([sys.executable, "-m", "almdesk.cli", "sandbox", "--only", system, "--port", "0"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        raise RuntimeError(f"the {system} sandbox did not start")
    return proc, json.loads(line)


def bench_system(system: str, n: int, qapp: Any, settle: bool = True, profile: bool = False,
                 switch_interval: float = 0.0) -> dict[str, Any]:
    import keyring.backends.fail
    from PySide6.QtCore import QEvent, QEventLoop, QTimer

    from almdesk.app import App, settle_gc
    from almdesk.secrets import SecretStore
    from almdesk.services import Services
    from almdesk.ui.sync_console import SyncConsole
    from bench.sync import bench_tasks, scope_all
    from tests.sync.harness import CONNECTOR_OVERRIDES, TITLE_FORMAT

    sandbox, info = start_sandbox(system)
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        services = Services.open(Path(tmp) / "data", secrets=SecretStore(keyring.backends.fail.Keyring()))
        try:
            from almdesk.sync.tasks_io import task_from_dict, upsert_tasks

            config = services.config
            cid = config.save_connector(f"{system} sandbox", system,
                                        {**info["params"], **CONNECTOR_OVERRIDES.get(system, {})}, info["secrets"])
            pid = config.add_project("Bench", "BU", "bench-app")
            upsert_tasks(services.store, pid, [task_from_dict(t) for t in bench_tasks(n)])
            conn = config.save_connection("bench", cid, "Bench", {**info["connection_params"], **scope_all(),
                                                                  "alm_title_format": TITLE_FORMAT})
            app = App(services)
            app.window.show()
            if settle:
                settle_gc()  # as almdesk.app.main does once the window is up
            if switch_interval:
                sys.setswitchinterval(switch_interval)
            for kind in ("create", "no-op"):
                probe = Probe(profile=profile)
                gc_clock = GcClock()
                gc.callbacks.append(gc_clock)
                timer = QTimer()
                timer.setInterval(TICK_MS)
                timer.timeout.connect(probe.tick)
                console = SyncConsole(services, app.runner, services.sync_spec(conn), app.window)
                started = time.monotonic()
                probe.start()
                timer.start()
                loop = QEventLoop()
                app.runner.finished.connect(lambda _h, _r, loop=loop: QTimer.singleShot(0, loop.quit))
                QTimer.singleShot(1_800_000, loop.quit)
                console.show()  # submits the job, as Sync Now does
                loop.exec()  # the real event loop, until the job ends
                while (console.finished_at == 0 or not console.drained()) and time.monotonic() - started < 1800:
                    qapp.processEvents()
                timer.stop()
                probe.stop()
                gc.callbacks.remove(gc_clock)
                for busy, gap, stats in probe.slow:
                    print(f"--- {system} {kind}: slow tick, UI CPU {busy * 1000:.0f} ms, gap {gap * 1000:.0f} ms\n"
                          + stats, file=sys.stderr)
                result = console.job_result
                out[kind] = {**probe.summary(), "seconds": time.monotonic() - started,
                             "state": result.state if result else "?",
                             "counts": result.outcome.counts if result else {}, "rows": console.model.rowCount(),
                             "gc_ms": gc_clock.longest * 1000, "gc_gen": gc_clock.generation}
                closing = time.perf_counter()  # closing a console of 5,000 rows is the user's act, timed apart
                console.close()
                qapp.sendPostedEvents(None, QEvent.Type.DeferredDelete)
                qapp.processEvents()
                out[kind]["close_ms"] = (time.perf_counter() - closing) * 1000
            app.close()
        finally:
            services.close()
            sandbox.terminate()
            sandbox.wait(10)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=5000, help="tasks per system (default 5000)")
    parser.add_argument("--github-n", type=int, default=450, help="tasks for GitHub (no bulk create)")
    parser.add_argument("--only", default="octane,jira,rally,github")
    parser.add_argument("--no-settle-gc", action="store_true",
                        help="leave out almdesk.app.settle_gc() (gc.freeze + gen-0 threshold) to see what it buys")
    parser.add_argument("--profile-ui", action="store_true",
                        help="print a cProfile of the UI thread's slowest ticks (to stderr; adds overhead)")
    parser.add_argument("--switch-interval", type=float, default=0.0,
                        help="sys.setswitchinterval(SECONDS) after settle_gc() (which sets the app's own, 0.001)")
    args = parser.parse_args(argv)
    from PySide6.QtWidgets import QApplication

    qapp = QApplication([sys.argv[0]])
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else -1.0
    print(f"almdesk UI stall bench: sync in the GUI (offscreen), sandbox in another process; {os.cpu_count()} CPUs, "
          f"Python {sys.version.split()[0]}, load average {load:.1f}"
          + ("; WITHOUT settle_gc()" if args.no_settle_gc else "")
          + (f"; switch interval {args.switch_interval * 1000:g} ms" if args.switch_interval else ""))
    head = (f"{'system':8} {'run':7} {'tasks':>5} {'state':9} {'rows':>5} {'s':>6} {'ticks':>6} {'median':>6} "
            f"{'p99':>6} {'max gap':>8} {'>50 ms':>6} {'UI CPU max':>10} {'GC max':>9} {'close':>6} | target max gap < 50 ms")
    print(head)
    print("-" * len(head))
    for system in args.only.split(","):
        n = min(args.n, args.github_n) if system == "github" else args.n
        print(f"… {system}: {n} tasks", file=sys.stderr, flush=True)
        runs = bench_system(system, n, qapp, settle=not args.no_settle_gc, profile=args.profile_ui,
                            switch_interval=args.switch_interval)
        for kind, r in runs.items():
            verdict = "ok" if r["max_ms"] < 50 else f"MISSED by {r['max_ms'] - 50:.0f} ms"
            print(f"{system:8} {kind:7} {n:>5} {r['state']:9} {r['rows']:>5} {r['seconds']:>6.1f} {r['ticks']:>6} "
                  f"{r['median_ms']:>6.1f} {r['p99_ms']:>6.1f} {r['max_ms']:>8.1f} {r['over_50']:>6} "
                  f"{r['busy_max_ms']:>10.1f} {r['gc_ms']:>6.1f}/g{r['gc_gen']} {r['close_ms']:>6.0f} | {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
