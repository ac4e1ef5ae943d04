"""The sync engine (no Qt): tasks in scope pushed into an ALM, with links, journal, dry run and schedule.

Entry points for the GUI and the CLI:

* :func:`sync_job` — ``sync_job(store, connection, system, http, dry_run=...)`` → a job callable
  for ``run_recorded`` (kind ``"sync"`` or ``"dry-run"``). Counts: created, updated (ALM status
  writes), closed, reopened, local_updated, linked, unchanged, skipped, failed; ``data`` has
  in_scope, out_of_scope, requests, seconds. A dry run's ``data["plan"]`` lists one dict per task
  that would change (``task_id, title, action, alm_key, alm_ref, url, alm_status, task_status,
  reason``; actions create / close / reopen / update-local / link / skip) and emits the same rows
  as events with status ``planned``; a real sync emits an event per item it touched, with its URL.
* :func:`import_tasks` — CSV/JSON task import, all-or-nothing; :func:`demo_tasks` for demos/benches.
* :func:`due_connections` / :func:`next_due` — the schedule (hourly … monthly).
"""

from almdesk.sync.demo import demo_tasks, write_demo_tasks
from almdesk.sync.engine import sync_job
from almdesk.sync.schedule import due_connections, next_due
from almdesk.sync.tasks_io import import_tasks

__all__ = ["demo_tasks", "due_connections", "import_tasks", "next_due", "sync_job", "write_demo_tasks"]
