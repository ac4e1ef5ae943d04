"""GitHub's rate limits, simulated: the primary hourly budget and (strict mode) the secondary limits.

Primary: every request but ``/rate_limit`` costs one unit of the caller's budget (5,000 an hour per
token, 60 per address without one); the ``x-ratelimit-*`` headers report it; an exhausted budget
answers 403 "API rate limit exceeded" with ``x-ratelimit-remaining: 0`` until the reset time.

Search: ``/search/...`` requests have their own budget instead (30 a minute per token, 10 per address
without one; ``x-ratelimit-resource: search``), answered like the primary limit when spent.

Secondary (strict mode only): more than 80 content-creating requests (POST/PATCH/PUT/DELETE) in a
sliding minute, or 500 in an hour, answers 403 (or 429) "You have exceeded a secondary rate limit"
with ``retry-after``. ``minute`` shrinks the minute for tests (the hour is 60 such minutes);
``monotonic`` is the clock of those windows (tests set one they advance instead of waiting).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})


@dataclass
class Budget:
    limit: int
    reset: int  # epoch seconds
    used: int = 0
    resource: str = "core"


@dataclass
class RateLimits:
    primary_limit: int = 5000
    unauthenticated_limit: int = 60
    primary_window: float = 3600.0
    strict: bool = False
    per_minute: int = 80
    per_hour: int = 500
    minute: float = 60.0
    secondary_status: int = 403
    search_limit: int = 30
    unauthenticated_search_limit: int = 10
    search_window: float = 60.0
    rejected: int = 0  # secondary-limit rejections so far (for tests and the demo)
    monotonic: Callable[[], float] = time.monotonic  # the secondary limits' clock
    _budgets: dict[str, Budget] = field(default_factory=dict)
    _writes: dict[str, deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _fresh(self, authenticated: bool, resource: str, now: float) -> Budget:
        if resource == "search":
            limit = self.search_limit if authenticated else self.unauthenticated_search_limit
            return Budget(limit, math.ceil(now + self.search_window), resource=resource)
        limit = self.primary_limit if authenticated else self.unauthenticated_limit
        return Budget(limit, math.ceil(now + self.primary_window), resource=resource)

    def charge(self, key: str, authenticated: bool, resource: str = "core") -> tuple[dict[str, str], bool]:
        """Spend one request of ``key``'s ``resource`` budget; return the headers and whether it was over."""
        now = time.time()
        with self._lock:
            budget = self._budgets.get(f"{resource}:{key}")
            if budget is None or now >= budget.reset:
                budget = self._budgets[f"{resource}:{key}"] = self._fresh(authenticated, resource, now)
            over = budget.used >= budget.limit
            if not over:
                budget.used += 1
            return self.headers(budget), over

    def refund(self, key: str, resource: str = "core") -> None:
        """Give back one request of ``key``'s budget (a 304 answer is free)."""
        with self._lock:
            budget = self._budgets.get(f"{resource}:{key}")
            if budget is not None and budget.used > 0:
                budget.used -= 1

    def peek(self, key: str, authenticated: bool, resource: str = "core") -> Budget:
        now = time.time()
        with self._lock:
            budget = self._budgets.get(f"{resource}:{key}")
            if budget is None or now >= budget.reset:
                return self._fresh(authenticated, resource, now)
            return Budget(budget.limit, budget.reset, budget.used, resource)

    @staticmethod
    def headers(budget: Budget) -> dict[str, str]:
        return {"x-ratelimit-limit": str(budget.limit), "x-ratelimit-remaining": str(max(0, budget.limit - budget.used)),
                "x-ratelimit-used": str(budget.used), "x-ratelimit-reset": str(budget.reset),
                "x-ratelimit-resource": budget.resource}

    def secondary(self, key: str) -> float | None:
        """For a content-creating request: None if allowed (and recorded), else seconds to wait."""
        if not self.strict:
            return None
        now = self.monotonic()
        hour = self.minute * 60
        with self._lock:
            stamps = self._writes.setdefault(key, deque())
            while stamps and stamps[0] <= now - hour:
                stamps.popleft()
            in_minute = [s for s in stamps if s > now - self.minute]
            if len(in_minute) >= self.per_minute:
                self.rejected += 1
                return in_minute[len(in_minute) - self.per_minute] + self.minute - now
            if len(stamps) >= self.per_hour:
                self.rejected += 1
                return stamps[len(stamps) - self.per_hour] + hour - now
            stamps.append(now)
            return None
