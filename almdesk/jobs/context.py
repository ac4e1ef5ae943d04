"""The context a job runs with: progress, cancellation, log lines and per-item events.

A job is a plain callable ``run(ctx) -> JobOutcome``; it never knows whether a thread, the CLI or a
test is driving it. Callbacks let the GUI runner turn progress into Qt signals.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from almdesk.base.records import StepResult
from almdesk.errors import CancelledError, UserFacingError


@dataclass
class JobEvent:
    """One thing a job did. ``step``: the Test Connection step it reports (its key); ``key``: the ALM
    item it touched, as people see it (PROJ-12, #12, US12)."""

    item: str
    action: str
    status: str = "ok"  # ok | failed | skipped | planned | running | waiting
    message: str = ""
    url: str = ""
    time: float = field(default_factory=time.time)
    step: str = ""
    key: str = ""


@dataclass
class Failure:
    """Why a job failed, as the user should read it: what, the fix, the form field it names."""

    message: str
    hint: str = ""
    field: str | None = None
    exit_code: int = 1

    @classmethod
    def of(cls, exc: UserFacingError) -> Failure:
        return cls(exc.message, exc.hint, exc.field, exc.exit_code)


@dataclass
class JobOutcome:
    """What a job returns. The typed parts are what views read: ``steps`` (Test Connection),
    ``failure`` (why it failed), ``payload`` (the job's own result: a gate report, a created item…).
    ``data`` is the JSON kept with the job row and printed by ``--json``."""

    succeeded: bool
    message: str
    counts: dict[str, int] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    steps: list[StepResult] = field(default_factory=list)
    failure: Failure | None = None
    payload: object = None

    def why(self) -> Failure:
        """Why the job failed, for a view to show: its typed failure, else its message alone."""
        return self.failure or Failure(self.message)


class JobContext:
    """What a running job may use. All methods are safe to call from a worker thread."""

    def __init__(self, *, cancel_event: threading.Event | None = None,
                 on_progress: Callable[[int, int, str], None] | None = None,
                 on_log: Callable[[str, str], None] | None = None,
                 on_event: Callable[[JobEvent], None] | None = None) -> None:
        self._cancel = cancel_event or threading.Event()
        self._on_progress = on_progress
        self._on_log = on_log
        self._on_event = on_event
        self.job_id: int | None = None  # the job row, when run through run_recorded
        self.counts: Counter[str] = Counter()
        self.events: list[JobEvent] = []
        self.lines: list[tuple[str, str]] = []

    def progress(self, done: int, total: int, text: str = "") -> None:
        if self._on_progress:
            self._on_progress(done, total, text)

    def cancel(self) -> None:
        self._cancel.set()

    def cancelled(self) -> bool:
        return self._cancel.is_set()

    @property
    def cancel_event(self) -> threading.Event:
        """The event Cancel sets (for waits that must end with it, e.g. HTTP retry waits)."""
        return self._cancel

    def check_cancelled(self) -> None:
        if self._cancel.is_set():
            raise CancelledError("cancelled")

    def sleep(self, seconds: float) -> None:
        """Sleep, waking early (and raising CancelledError) when the job is cancelled."""
        if self._cancel.wait(seconds):
            raise CancelledError("cancelled")

    def log(self, message: str, level: str = "info") -> None:
        self.lines.append((level, message))
        if self._on_log:
            self._on_log(level, message)

    def event(self, item: str, action: str, status: str = "ok", message: str = "", url: str = "", *,
              step: str = "", key: str = "") -> JobEvent:
        ev = JobEvent(item, action, status, message, url, step=step, key=key)
        self.events.append(ev)
        if self._on_event:
            self._on_event(ev)
        return ev
