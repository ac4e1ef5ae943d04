"""Killing a sync child process mid-run (crash tests and the crash soak).

:class:`RequestKiller` is a sandbox hook that SIGKILLs the child (``tests.sync.sync_child``) when the
``nth`` request its kill point matches arrives: *before* the server handles it (the write never
happened) or *after* (the write happened, its answer is lost), optionally ``delay`` seconds later.
:func:`run_sync_child` runs one sync in such a child.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Protocol

from werkzeug.wrappers import Request, Response

from almdesk.sandbox.base import json_response
from tests.sync.harness import Handler, SyncEnv

ROOT = Path(__file__).resolve().parents[2]


class KillPoint(Protocol):
    @property
    def nth(self) -> int: ...  # 1-based, among the requests the point matches

    @property
    def when(self) -> str: ...  # before | after

    @property
    def delay(self) -> float: ...  # seconds after the answer (``after`` only)

    def matches(self, request: Request) -> bool: ...


class RequestKiller:
    """Sandbox hook: SIGKILL the current child at its kill point."""

    def __init__(self) -> None:
        self.pid = 0
        self.point: KillPoint | None = None
        self.seen = 0
        self.fired = False
        self.killed_at = ""
        self._lock = threading.Lock()

    def arm(self, point: KillPoint | None) -> None:
        with self._lock:
            self.point, self.seen, self.fired, self.pid, self.killed_at = point, 0, False, 0, ""

    def disarm(self) -> None:
        """No more kills (what happened stays readable)."""
        with self._lock:
            self.point = None

    def _kill(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def __call__(self, request: Request, call: Handler) -> Response:
        with self._lock:
            point, fire = self.point, False
            if point is not None and not self.fired and self.pid and point.matches(request):
                self.seen += 1
                fire = self.fired = self.seen == point.nth
                if fire:
                    self.killed_at = f"{request.method} {request.path}"
        if fire and point is not None and point.when == "before":
            self._kill()
            return json_response({"message": "client gone"}, 503)
        response = call(request)
        if fire and point is not None:
            if point.delay:
                threading.Timer(point.delay, self._kill).start()
            else:
                self._kill()
        return response


def run_sync_child(env: SyncEnv, alias: str, killer: RequestKiller, point: KillPoint | None,
                   timeout: float) -> tuple[int, str, str]:
    """One sync of ``alias`` in a child process, ``killer`` armed with ``point``; returns (exit code,
    standard output, standard error). Secrets go to the child on stdin, never on its command line."""
    uid = env.config.connector(env.connector).uid
    secrets = {f"{uid}/{k}": v for k, v in env.target.info["secrets"].items()}
    killer.arm(point)
    proc = subprocess.Popen([sys.executable, "-m", "tests.sync.sync_child", str(env.store.path), alias],
                            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    killer.pid = proc.pid
    out, err = proc.communicate(json.dumps(secrets), timeout=timeout)
    killer.disarm()
    return proc.returncode, out, err
