"""The job runner: progress through signals, a responsive event loop, Cancel recorded as cancelled."""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer

from almdesk.jobs.context import JobContext, JobOutcome
from almdesk.jobs.history import get_job, recent_jobs
from almdesk.jobs.record import JobSpec
from almdesk.services import Services
from almdesk.ui.runner import JobRunner


def busy_job(steps: int, pause: float):  # type: ignore[no-untyped-def]
    def run(ctx: JobContext) -> JobOutcome:
        for i in range(steps):
            ctx.check_cancelled()
            time.sleep(pause)  # stands for network waits
            ctx.progress(i + 1, steps, f"item {i + 1}")
            ctx.event(f"T{i + 1}", "create", "ok")
            ctx.counts["created"] += 1
        return JobOutcome(True, f"did {steps} items")

    return run


def test_progress_and_responsive_loop(qtbot, services: Services) -> None:  # type: ignore[no-untyped-def]
    runner = JobRunner(services)
    progress: list[tuple[int, int]] = []
    runner.progress.connect(lambda _h, d, t, _s: progress.append((d, t)))
    gaps: list[float] = []
    last = [time.monotonic()]

    def tick() -> None:
        now = time.monotonic()
        gaps.append(now - last[0])
        last[0] = now

    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(tick)
    timer.start()
    with qtbot.waitSignal(runner.finished, timeout=10000) as blocker:
        runner.submit(JobSpec("test", "busy", busy_job(60, 0.01)))
    timer.stop()
    _handle, result = blocker.args
    assert result.state == "succeeded" and result.outcome.counts["created"] == 60
    assert progress and progress[-1] == (60, 60)
    job = get_job(services.store, result.job_id)
    assert job is not None and job["state"] == "succeeded" and job["counts"]["created"] == 60
    print(f"\nlargest event-loop gap while the job ran: {max(gaps) * 1000:.1f} ms over {len(gaps)} ticks")


def test_cancel_marks_job_cancelled(qtbot, services: Services) -> None:  # type: ignore[no-untyped-def]
    runner = JobRunner(services)
    started: list[int] = []
    runner.progress.connect(lambda h, d, _t, _s: started.append(d))
    handle = runner.submit(JobSpec("test", "long", busy_job(10_000, 0.01)))
    qtbot.waitUntil(lambda: len(started) > 0, timeout=5000)
    t0 = time.monotonic()
    with qtbot.waitSignal(runner.finished, timeout=5000) as blocker:
        runner.cancel(handle)
    stop_seconds = time.monotonic() - t0
    result = blocker.args[1]
    assert result.state == "cancelled"
    job = recent_jobs(services.store, limit=1)[0]
    assert job["state"] == "cancelled" and job["succeeded"] is False
    assert job["result_message"] == "Cancelled by the user."
    print(f"\ncancel took {stop_seconds * 1000:.0f} ms")


def test_one_queue_per_connector(qtbot, services: Services) -> None:  # type: ignore[no-untyped-def]
    runner = JobRunner(services)
    order: list[str] = []
    runner.started.connect(lambda _h, title: order.append(title))
    done: list[int] = []
    runner.finished.connect(lambda h, _r: done.append(h))
    runner.submit(JobSpec("test", "a1", busy_job(5, 0.01)), queue="A")
    runner.submit(JobSpec("test", "a2", busy_job(5, 0.01)), queue="A")
    runner.submit(JobSpec("test", "b1", busy_job(5, 0.01)), queue="B")
    assert order == ["a1", "b1"]  # a2 waits for a1; b1 runs beside it
    qtbot.waitUntil(lambda: len(done) == 3, timeout=5000)
    assert order == ["a1", "b1", "a2"]
