"""Bench: first start of the GUI in a real X window (Xvfb, the xcb platform) with the real Secret Service.

Run ``.venv/bin/python bench/first_start.py [--runs 5] [--display 60] [--scenario empty|filled|both] [--demo]``.
Without a Secret Service session it re-runs itself under ``scripts/with-keyring`` (a private D-Bus session
with an unlocked gnome-keyring, started once for all the runs); it starts ``Xvfb :DISPLAY`` unless that
display already has a server.

Each run is a fresh process started as the ``almdesk-gui`` entry point starts (``almdesk.app.main``) with
``QT_QPA_PLATFORM=xcb`` and ``ALMDESK_START_MARK=quit``: the app writes a monotonic mark when the main
window first painted, one when the welcome box of a first start painted, and one when the main window is
**usable** (the app built: the store open, the page on screen filled and painted, the event loop back),
then quits (:mod:`almdesk.ui.start_mark`). Spawn → each mark is measured on the same clock (``time.monotonic``); the
child's CPU time at the usable mark is printed too (steadier than the clock when the machine is busy).

``--demo`` adds ``--demo`` to the child's arguments (``make run``'s ``almdesk --demo``: on an empty store the
sandbox demo starts instead of the welcome box). ``--entry cli`` starts as ``almdesk`` with no command does (``almdesk.entry.main``, the console script) instead.

Scenarios: ``empty`` — a new data directory every run (the very first start: the store is created, the
welcome box offers the sandbox); ``filled`` — one store with 4 connectors, 100 projects, 1,000 connections
and 100,000 job events (``bench/cold_start.py``'s fill), started again and again. Printed: every run and the
median of the runs. The children may write ``.pyc`` files, as an installed package has them.

Not a test: it prints and asserts nothing. See docs/performance.md ("First start in a real window").
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHILDREN = {  # as the two entry points start: almdesk-gui (the .desktop file's) and almdesk with no command
    "gui": "import sys; from almdesk.app import main; sys.argv[0] = 'almdesk-gui'; sys.exit(main())",
    "cli": "import sys; from almdesk.entry import main; sys.argv[0] = 'almdesk'; sys.exit(main())",
}
TARGET = 1.0  # seconds to usable


def ensure_display(number: int) -> subprocess.Popen[bytes] | None:
    """Start ``Xvfb :number`` unless it runs; returns the process started (None if one was there)."""
    socket = Path(f"/tmp/.X11-unix/X{number}")
    if socket.exists():
        return None
    proc = subprocess.Popen(["Xvfb", f":{number}", "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        if socket.exists():
            return proc
        time.sleep(0.05)  # Xvfb has no readiness signal but its socket
    proc.kill()
    raise SystemExit(f"Xvfb :{number} did not start")


def run_once(data_dir: Path, display: int, entry: str, extra: Sequence[str] = ()) -> dict[str, float] | str:
    """One start: spawn → each mark (painted, welcome when shown, usable) in seconds, or what went wrong."""
    env = {**os.environ, "DISPLAY": f":{display}", "QT_QPA_PLATFORM": "xcb", "ALMDESK_START_MARK": "quit",
           "PYTHONPATH": str(ROOT)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("ALMDESK_DEMO", None)
    spawned = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-c", CHILDREN[entry], "--data-dir", str(data_dir), *extra], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        _out, err = proc.communicate()
    marks: dict[str, float] = {}
    cpu: dict[str, float] = {}
    for line in err.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] == "almdesk-mark":
            marks[parts[1]] = float(parts[2])
            if len(parts) > 3 and parts[3].startswith("cpu="):
                cpu[parts[1]] = float(parts[3][4:])
    if "usable" not in marks or "painted" not in marks:
        return f"no marks (exit {proc.returncode}): {err[-800:]}"
    return {**{name: when - spawned for name, when in marks.items()}, **{f"cpu_{k}": v for k, v in cpu.items()}}


def series(name: str, dirs: list[Path], display: int, entry: str, extra: Sequence[str] = ()) -> None:
    print(f"\n{name}: {'run':>3} {'spawn→painted':>14} {'spawn→welcome':>14} {'spawn→usable':>13} "
          f"{'CPU to usable':>13}   target < {TARGET:.0f} s to usable")
    marks: dict[str, list[float]] = {"painted": [], "welcome": [], "usable": [], "cpu_usable": []}
    pad = " " * len(name)
    for i, data_dir in enumerate(dirs):
        result = run_once(data_dir, display, entry, extra)
        if isinstance(result, str):
            print(f"{pad}  {i + 1:>3} failed: {result}")
            continue
        for key, values in marks.items():
            if key in result:
                values.append(result[key])
        welcome = f"{result['welcome']:>13.2f}s" if "welcome" in result else f"{'–':>14}"
        verdict = "ok" if result["usable"] < TARGET else f"MISSED by {result['usable'] - TARGET:.2f} s"
        cpu = f"{result['cpu_usable']:>12.2f}s" if "cpu_usable" in result else f"{'?':>13}"
        print(f"{pad}  {i + 1:>3} {result['painted']:>13.2f}s {welcome} {result['usable']:>12.2f}s {cpu}   {verdict}")
    if marks["usable"]:
        welcome = f", welcome {statistics.median(marks['welcome']):.2f} s" if marks["welcome"] else ""
        usable = marks["usable"]
        cpu = f"; CPU to usable {statistics.median(marks['cpu_usable']):.2f} s" if marks["cpu_usable"] else ""
        print(f"{pad}  median: painted {statistics.median(marks['painted']):.2f} s{welcome}, usable "
              f"{statistics.median(usable):.2f} s (best {min(usable):.2f} s, worst {max(usable):.2f} s){cpu}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--display", type=int, default=60, help="the Xvfb display number (default :60)")
    parser.add_argument("--scenario", choices=("empty", "filled", "both"), default="both")
    parser.add_argument("--entry", choices=tuple(CHILDREN), default="gui",
                        help="start as almdesk-gui (default) or as almdesk with no command")
    parser.add_argument("--demo", action="store_true", help="start with --demo (make run's command)")
    args = parser.parse_args(argv)
    if not os.environ.get("ALMDESK_SECRET_SERVICE"):  # a private Secret Service for all the runs
        return subprocess.call([str(ROOT / "scripts" / "with-keyring"), sys.executable, *sys.argv])
    xvfb = ensure_display(args.display)
    extra = ["--demo"] if args.demo else []
    try:
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "almdesk")], check=False,
                       capture_output=True)
        load = os.getloadavg()[0]
        print(f"almdesk first start in a real window: Xvfb :{args.display}, xcb, Secret Service; "
              f"entry {'almdesk-gui' if args.entry == 'gui' else 'almdesk'}{' --demo' if args.demo else ''}; {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, load average {load:.1f}")
        with tempfile.TemporaryDirectory() as tmp:
            if args.scenario in ("empty", "both"):
                series("empty store", [Path(tmp) / f"empty-{i}" for i in range(args.runs)], args.display, args.entry,
                       extra)
            if args.scenario in ("filled", "both"):
                sys.path.insert(0, str(ROOT / "bench"))
                from cold_start import fill

                filled = Path(tmp) / "filled"
                fill(filled, 1000, 100_000)
                series("1,000 connections", [filled] * args.runs, args.display, args.entry, extra)
        print(f"\nload average after: {os.getloadavg()[0]:.1f}")
    finally:
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
