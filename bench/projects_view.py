"""Bench: the Projects view over one project of 50,000 tasks — seeding, opening, the next page.

Run ``.venv/bin/python bench/projects_view.py [--n 50000]``. Offscreen, over a fresh data directory: N
plain tasks are inserted in one executemany, then a ``ProjectsView`` opens on them (the count and the
first page), then scrolls to the bottom until the next page has been fetched. Printed: the three
wall-clock times in milliseconds. (The test ``tests/ui/test_projects_view.py`` checks the paging and
filtering themselves; these figures are not a test.)

Not a test: it prints and asserts nothing. See docs/performance.md.
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
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication  # noqa: E402

from almdesk.services import Services  # noqa: E402
from almdesk.ui.projects_view import PAGE, ProjectsView  # noqa: E402
from almdesk.ui.runner import JobRunner  # noqa: E402
from tests.ui.conftest import bulk_tasks  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50_000, help="tasks (default 50000)")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory(prefix="almdesk-bench-") as tmp:
        services = Services.open(Path(tmp))
        try:
            pid = services.config.add_project("Big", "Retail", "Web shop")
            started = time.perf_counter()
            bulk_tasks(services, pid, args.n)
            seeded = time.perf_counter() - started
            view = ProjectsView(services, JobRunner(services))
            view.resize(1200, 700)
            started = time.perf_counter()
            view.show()
            view.apply_filters()
            opened = time.perf_counter() - started
            started = time.perf_counter()
            view.table.scrollToBottom()
            deadline = started + 30
            while view.model.rowCount() <= PAGE and time.perf_counter() < deadline:
                app.processEvents()
            more = time.perf_counter() - started
            print(f"{args.n:,} tasks: seeded in {seeded * 1000:.0f} ms; view opened (count + first page) in "
                  f"{opened * 1000:.0f} ms; next page in {more * 1000:.0f} ms ({view.model.rowCount()} rows)")
            view.close()
        finally:
            services.close()


if __name__ == "__main__":
    main()
