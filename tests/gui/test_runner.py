"""The job runner: progress through signals, a responsive event loop, Cancel recorded as cancelled.

Jobs here are paced by the test (:class:`Pace`), not by sleeps: a step runs when the test, or the UI
event loop's timer, lets it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from PySide6.QtCore import QTimer

from almdesk.jobs.context import JobContext, JobOutcome
from almdesk.jobs.history import get_job, recent_jobs
from almdesk.jobs.record import JobSpec
from almdesk.services import Services
from almdesk.ui.runner import JobRunner


class Pace:
    """Lets a paced job take one step per :meth:`release` (the job's stand-in for network waits)."""

    def __init__(self) -> None:
        self._steps = threading.Semaphore(0)

    def release(self, steps: int = 1) -> None:
        self._steps.release(steps)

    def wait(self) -> None:
        assert self._steps.acquire(timeout=10), "the test never let the job take its next step"


def busy_job(steps: int, pace: Pace | None = None) -> Callable[[JobContext], JobOutcome]:
    """A job of ``steps`` items; with ``pace``, each step first waits for the test's release."""

    def run(ctx: JobContext) -> JobOutcome:
        for i in range(steps):
            if pace is not None:
                pace.wait()
            ctx.check_cancelled()
            ctx.progress(i + 1, steps, f"item {i + 1}")
            ctx.event(f"T{i + 1}", "create", "ok")
            ctx.counts["created"] += 1
        return JobOutcome(True, f"did {steps} items")

    return run


def test_progress_and_responsive_loop(qtbot, services: Services) -> None:  # type: ignore[no-untyped-def]
    """Each step of the job waits for a tick of a UI timer: the job finishes only if the event loop kept
    running timers (and delivering progress) while the job ran."""
    runner = JobRunner(services)
    progress: list[tuple[int, int]] = []
    runner.progress.connect(lambda _h, d, t, _s: progress.append((d, t)))
    pace = Pace()
    ticks_while_busy: list[int] = []

    def tick() -> None:
        if runner.busy():
            ticks_while_busy.append(len(progress))
            pace.release()

    timer = QTimer()
    timer.setInterval(1)
    timer.timeout.connect(tick)
    timer.start()
    with qtbot.waitSignal(runner.finished, timeout=10000) as blocker:
        runner.submit(JobSpec("test", "busy", busy_job(60, pace)))
    timer.stop()
    _handle, result = blocker.args
    assert result.state == "succeeded" and result.outcome.counts["created"] == 60, result.outcome.message
    assert len(ticks_while_busy) >= 60  # the loop ran a timer tick for every step of the job
    assert ticks_while_busy == sorted(ticks_while_busy) and ticks_while_busy[-1] > 0  # progress came in between
    assert progress and progress[-1] == (60, 60)
    job = get_job(services.store, result.job_id)
    assert job is not None and job["state"] == "succeeded" and job["counts"]["created"] == 60


def test_cancel_marks_job_cancelled(qtbot, services: Services) -> None:  # type: ignore[no-untyped-def]
    """Cancel takes effect at the job's next step: nothing of that step or later is done."""
    runner = JobRunner(services)
    started: list[int] = []
    runner.progress.connect(lambda h, d, _t, _s: started.append(d))
    pace = Pace()
    handle = runner.submit(JobSpec("test", "long", busy_job(10_000, pace)))
    pace.release()
    qtbot.waitUntil(lambda: len(started) > 0, timeout=5000)
    with qtbot.waitSignal(runner.finished, timeout=5000) as blocker:
        runner.cancel(handle)
        pace.release(2)  # the job may go on: it must find the cancel first
    result = blocker.args[1]
    assert result.state == "cancelled"
    assert started == [1]
    job = recent_jobs(services.store, limit=1)[0]
    assert job["state"] == "cancelled" and job["succeeded"] is False
    assert job["result_message"] == "Cancelled by the user."
    assert job["counts"].get("created") == 1, job["counts"]  # the one step before the cancel, no more


def test_one_queue_per_connector(qtbot, services: Services) -> None:  # type: ignore[no-untyped-def]
    runner = JobRunner(services)
    order: list[str] = []
    runner.started.connect(lambda _h, title: order.append(title))
    done: list[int] = []
    runner.finished.connect(lambda h, _r: done.append(h))
    a1, b1 = Pace(), Pace()
    runner.submit(JobSpec("test", "a1", busy_job(5, a1)), queue="A")
    runner.submit(JobSpec("test", "a2", busy_job(5)), queue="A")
    runner.submit(JobSpec("test", "b1", busy_job(5, b1)), queue="B")
    assert order == ["a1", "b1"]  # a2 waits for a1; b1 runs beside it
    b1.release(5)
    qtbot.waitUntil(lambda: len(done) == 1, timeout=5000)
    assert order == ["a1", "b1"]  # b1 is done, a1 still runs: a2 still waits
    a1.release(5)
    qtbot.waitUntil(lambda: len(done) == 3, timeout=5000)
    assert order == ["a1", "b1", "a2"]
