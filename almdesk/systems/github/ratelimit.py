"""GitHub rate limits on the client side: reading a limited response, and pacing writes.

GitHub answers a limited request with 403 or 429. The wait comes from ``retry-after`` when present,
else from ``x-ratelimit-reset`` when ``x-ratelimit-remaining`` is 0 (primary limit, or the search API's
own limit when ``x-ratelimit-resource`` is ``search``), else it is at
least a minute, doubling on each repeat (secondary limit without a hint) — GitHub's documented rules.
Writes are paced to stay under the secondary limit (80 content-creating requests a minute, 500 an
hour) rather than trip it.
"""

from __future__ import annotations

import email.utils
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import requests

from almdesk.net.api import Pacer

SECONDARY_PER_HOUR = 500
DEFAULT_SECONDARY_WAIT = 60.0


@dataclass(frozen=True)
class LimitWait:
    """How long to wait after a limited response, and why."""

    seconds: float
    kind: str  # primary | search | secondary | throttled (a 429 that names neither)
    source: str  # retry-after | x-ratelimit-reset | GitHub's rule for secondary limits
    message: str = ""

    @property
    def reason(self) -> str:
        if self.kind == "throttled":
            return "GitHub asked almdesk to slow down (HTTP 429)"
        if self.kind == "search":
            return "GitHub's search rate limit (30 searches a minute per token) was hit"
        return f"GitHub's {self.kind} rate limit was hit"

    def describe(self, what: str) -> str:
        until = datetime.fromtimestamp(time.time() + self.seconds).strftime("%H:%M:%S")
        return (f"{self.reason} while {what}; waiting {self.seconds:.0f} s (until {until}, from "
                f"{self.source}) before trying again.")


def _message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("message", "")) if isinstance(body, dict) else ""


def _retry_after(value: str) -> float | None:
    value = value.strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def is_limited(response: requests.Response) -> bool:
    """Whether a response is GitHub saying "rate limited" (and not a permission problem)."""
    if response.status_code == 429:
        return True
    if response.status_code != 403:
        return False
    if response.headers.get("retry-after") or response.headers.get("x-ratelimit-remaining") == "0":
        return True
    return "rate limit" in _message(response).lower()


def limit_wait(response: requests.Response, repeat: int = 0, now: Callable[[], float] = time.time) -> LimitWait | None:
    """The wait a limited response asks for (None when it is not limited). ``repeat`` counts earlier waits."""
    if not is_limited(response):
        return None
    message = _message(response)
    low = message.lower()
    if "secondary" in low or "abuse" in low:
        kind = "secondary"
    elif response.headers.get("x-ratelimit-remaining") == "0" or "api rate limit exceeded" in low:
        kind = "primary"
    else:
        kind = "throttled" if response.status_code == 429 else "secondary"
    if kind == "primary" and response.headers.get("x-ratelimit-resource", "").lower() == "search":
        kind = "search"  # the search API's own budget (30 a minute), whichever header gives the wait
    after = _retry_after(response.headers.get("retry-after", ""))
    if after is not None:
        return LimitWait(max(after, 1.0), kind, "retry-after", message)
    if response.headers.get("x-ratelimit-remaining") == "0":
        try:
            reset = float(response.headers.get("x-ratelimit-reset", ""))
        except ValueError:
            reset = now() + DEFAULT_SECONDARY_WAIT
        return LimitWait(max(reset - now(), 0.0) + 1.0, "search" if kind == "search" else "primary",
                         "x-ratelimit-reset", message)
    return LimitWait(DEFAULT_SECONDARY_WAIT * 2 ** min(repeat, 4), "secondary",
                     "GitHub's rule: wait at least a minute", message)


class WriteLimiter:
    """Keeps content-creating requests ``interval`` seconds apart and at most ``per_hour`` an hour."""

    def __init__(self, interval: float, *, per_hour: int = SECONDARY_PER_HOUR, hour: float = 3600.0,
                 sleep: Callable[[float], None] = time.sleep, log: Callable[[str], None] | None = None) -> None:
        self.interval = interval
        self.per_hour = per_hour
        self.hour = hour
        self._pacer = Pacer(interval, sleep)
        self._sleep = sleep
        self._log = log
        self._stamps: deque[float] = deque()
        self._lock = threading.Lock()
        self.writes = 0
        self.paced_seconds = 0.0

    def wait(self) -> float:
        """Block until the next write may go; return how long that took."""
        waited = 0.0
        with self._lock:
            now = time.monotonic()
            while self._stamps and self._stamps[0] <= now - self.hour:
                self._stamps.popleft()
            hourly = self._stamps[0] + self.hour - now if len(self._stamps) >= self.per_hour else 0.0
        if hourly > 0:
            if self._log:
                self._log(f"{self.per_hour} writes in the last hour (GitHub's limit for content-creating "
                          f"requests); waiting {hourly:.0f} s before the next one.")
            self._sleep(hourly)
            waited += hourly
        if self.interval > 0:
            waited += self._pacer.wait()
        with self._lock:
            self._stamps.append(time.monotonic())
            self.writes += 1
            self.paced_seconds += waited
        return waited
