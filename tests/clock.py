"""Injected clocks for tests: time that passes when a test says so, never by waiting.

:class:`ManualClock` is a monotonic ``() -> float`` (for code taking ``clock=time.monotonic``);
:class:`ShiftedClock` is an aware-UTC ``() -> datetime`` that runs with the wall clock plus an offset the
test moves forward (for code taking ``now=`` and comparing with timestamps the wall clock stored).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class ManualClock:
    """A monotonic clock that stands still until :meth:`advance`; ``readings`` counts the calls."""

    def __init__(self, start: float = 1000.0) -> None:
        self.value = start
        self.readings = 0

    def __call__(self) -> float:
        self.readings += 1
        return self.value

    def advance(self, seconds: float) -> None:
        assert seconds >= 0, seconds
        self.value += seconds


class ShiftedClock:
    """The wall clock (aware UTC) plus ``offset``, which :meth:`advance` grows."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: float) -> None:
        assert seconds >= 0, seconds
        self.offset += timedelta(seconds=seconds)
