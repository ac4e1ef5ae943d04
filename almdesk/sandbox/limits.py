"""The sandboxes' fault injection and limits: injected faults, a token bucket, concurrency limits
per caller, and the latency model. :mod:`almdesk.sandbox.base` applies them to every request.
"""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

FAULT_KINDS = ("500", "502", "503", "429", "reset", "slow", "expire")
COUNTERS_PATH = "/__sandbox__/counters"  # a bench reads the counters here: never faulted, never delayed


@dataclass
class Faults:
    """Fault rates by kind, drawn from a seeded random generator.

    ``exempt`` holds path fragments never faulted (e.g. sign-in, so tests stay meaningful).
    ``slow_seconds`` is how long a ``slow`` answer waits; ``retry_after`` what 429 asks for.
    """

    rates: dict[str, float] = field(default_factory=dict)
    seed: int = 0
    slow_seconds: float = 3.0
    retry_after: int = 1
    exempt: tuple[str, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()

    @classmethod
    def parse(cls, spec: str, seed: int = 0, **kwargs: Any) -> Faults:
        rates: dict[str, float] = {}
        for part in filter(None, (p.strip() for p in (spec or "").split(","))):
            kind, _, rate = part.partition(":")
            if kind not in FAULT_KINDS:
                raise ValueError(f"unknown fault {kind!r}; known: {', '.join(FAULT_KINDS)}")
            try:
                value = float(rate)
            except ValueError:
                raise ValueError(f"fault {kind!r} needs a rate like {kind}:0.05") from None
            if not 0 <= value <= 1:
                raise ValueError(f"fault rate for {kind!r} must be between 0 and 1")
            rates[kind] = value
        return cls(rates=rates, seed=seed, **kwargs)

    def draw(self, path: str) -> str | None:
        if not self.rates or path == COUNTERS_PATH or any(e in path for e in self.exempt):
            return None
        with self._lock:
            roll = self._rng.random()
            acc = 0.0
            for kind, rate in self.rates.items():
                acc += rate
                if roll < acc:
                    self.counts[kind] = self.counts.get(kind, 0) + 1
                    return kind
        return None


# --- routing ---------------------------------------------------------------------------------------


# --- limits ----------------------------------------------------------------------------------------
class TokenBucket:
    """A token bucket per caller; ``check`` returns ``(None, left)`` or ``(seconds to wait, left)``."""

    def __init__(self, capacity: int, per_second: float) -> None:
        self.capacity = capacity
        self.rate = per_second
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def check(self, who: str) -> tuple[int | None, float]:
        with self._lock:
            t = time.monotonic()
            tokens, last = self._buckets.get(who, (float(self.capacity), t))
            tokens = min(float(self.capacity), tokens + (t - last) * self.rate)
            if tokens < 1:
                self._buckets[who] = (tokens, t)
                wait = (1 - tokens) / self.rate
                return max(1, int(wait) + (wait > int(wait))), tokens
            self._buckets[who] = (tokens - 1, t)
            return None, tokens - 1


@dataclass(frozen=True)
class Limit:
    """A published concurrency limit: at most ``limit`` requests of one caller in flight.

    ``methods`` restricts it to those methods (GitHub's limit on concurrent writes); ``refuse``
    answers the request beyond it with the system's error (:meth:`SandboxApp.refused`), otherwise it
    waits for a slot (Rally's documented "slowed down").
    """

    name: str
    limit: int
    refuse: bool = True
    methods: frozenset[str] | None = None

    def covers(self, method: str) -> bool:
        return self.methods is None or method in self.methods


class Concurrency:
    """Counts requests in flight per limit and caller, and enforces the :class:`Limit` s.

    Read ``in_flight``/``max_in_flight`` (``{limit name: {caller: n}}``, the name ``"all"`` counts
    every request), ``refused`` and ``waited`` (``{limit name: n}``); :meth:`snapshot` gives them as
    plain JSON-able data.
    """

    ALL = "all"

    def __init__(self, limits: Sequence[Limit] = ()) -> None:
        self.limits = tuple(limits)
        self._lock = threading.Lock()
        self._free = threading.Condition(self._lock)
        self.in_flight: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.max_in_flight: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.refused: dict[str, int] = defaultdict(int)
        self.waited: dict[str, int] = defaultdict(int)

    def _enter(self, name: str, caller: str) -> None:
        now = self.in_flight[name][caller] = self.in_flight[name][caller] + 1
        if now > self.max_in_flight[name][caller]:
            self.max_in_flight[name][caller] = now

    @contextmanager
    def slot(self, caller: str, method: str) -> Iterator[Limit | None]:
        """Counts the request while it runs; yields the limit that refused it, or None."""
        entered: list[str] = []
        refused: Limit | None = None
        with self._lock:
            for lim in self.limits:
                if not lim.covers(method):
                    continue
                if self.in_flight[lim.name][caller] >= lim.limit:
                    if lim.refuse:
                        self.refused[lim.name] += 1
                        refused = lim
                        break
                    self.waited[lim.name] += 1
                    while self.in_flight[lim.name][caller] >= lim.limit:
                        self._free.wait()
                self._enter(lim.name, caller)
                entered.append(lim.name)
            if refused is not None:
                self._leave(entered, caller)
                entered = []
            self._enter(self.ALL, caller)
            entered.append(self.ALL)
        try:
            yield refused
        finally:
            with self._lock:
                self._leave(entered, caller)

    def _leave(self, names: list[str], caller: str) -> None:
        for name in names:
            self.in_flight[name][caller] -= 1
        self._free.notify_all()

    def peak(self, name: str = ALL) -> int:
        """The most requests of one caller that were in flight at once under ``name``."""
        with self._lock:
            return max(self.max_in_flight[name].values(), default=0)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"limits": {lim.name: {"limit": lim.limit, "refuse": lim.refuse} for lim in self.limits},
                    "in_flight": {n: dict(c) for n, c in self.in_flight.items()},
                    "max_in_flight": {n: dict(c) for n, c in self.max_in_flight.items()},
                    "refused": dict(self.refused), "waited": dict(self.waited)}


@dataclass
class Latency:
    """The latency model: ``seconds`` of real server-side wait before every answer (what a network
    round trip adds), plus ``server_cost`` seconds per item of a bulk write (what a server spends on
    each created or updated item). Both are real waits in the serving thread, so concurrency and
    time-outs behave as they would over a slow link; tests assert counts, benches print the times."""

    seconds: float = 0.0
    server_cost: float = 0.0

    def __post_init__(self) -> None:
        if self.seconds < 0 or self.server_cost < 0:
            raise ValueError("latency and server cost must be 0 or more seconds")


