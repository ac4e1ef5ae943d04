"""Overlapping independent requests: a bounded pool whose results come back in the order sent.

:class:`Overlap` runs ``call(item)`` for a lazy stream of items with at most ``width`` calls in
flight, and yields ``(item, outcome)`` in the order the items were taken — the outcome is the call's
result, or the exception it raised. Contract:

* an item is taken from the stream (``next()``, which is where the caller does its per-item
  bookkeeping, e.g. journaling a create as pending) only after ``check()`` passed (cancellation) and
  only just before its call is sent, never earlier than a free slot;
* with ``first_alone`` the first call runs on its own before any other is sent, so what the first
  call learns once (a status read, a tag it makes) is there for the rest rather than raced for;
* when ``check()`` raises, no further item is taken: the calls in flight finish, are yielded, then
  the exception propagates — a cancel takes effect within one in-flight batch;
* a caller that stops iterating early (an exception of its own) calls :meth:`Overlap.drain` to get
  the calls still in flight, finished, so nothing sent is left unaccounted for (:meth:`Overlap.each`
  does both: it settles every outcome, in order, those in flight after a stop included);
* ``width`` 1 runs every call in the calling thread, one after the other (no pool, no thread).

The calls share whatever the caller's objects share (a ``requests`` session, an adapter's caches):
callers make those safe for concurrent use; the pool itself only orders and bounds.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

A = TypeVar("A")
R = TypeVar("R")
T = TypeVar("T")


def chunks(items: list[T], size: int) -> Iterator[list[T]]:
    """``items`` in consecutive lists of at most ``size``."""
    for i in range(0, len(items), max(1, size)):
        yield items[i:i + size]


class Overlap(Generic[A, R]):
    """One run of overlapped calls (not reusable); see the module docstring."""

    def __init__(self, call: Callable[[A], R], width: int, *, check: Callable[[], None] = lambda: None,
                 first_alone: bool = True, name: str = "almdesk-overlap") -> None:
        self.call = call
        self.width = max(1, int(width))
        self.check = check
        self.first_alone = first_alone
        self.name = name
        self._pending: deque[tuple[A, Future[R]]] = deque()
        self._pool: ThreadPoolExecutor | None = None

    def run(self, items: Iterable[A]) -> Iterator[tuple[A, R | Exception]]:
        """``(item, result or exception)`` for each item, in order; see the module docstring."""
        if self.width == 1:
            yield from self._serial(items)
            return
        self._pool = ThreadPoolExecutor(max_workers=self.width, thread_name_prefix=self.name)
        try:
            source = iter(items)
            stop: BaseException | None = None
            sent = 0
            while True:
                alone = self.first_alone and (sent == 0 or (sent == 1 and bool(self._pending)))
                room = 1 if alone else self.width
                while stop is None and len(self._pending) < room:
                    try:
                        self.check()
                        item = next(source)
                    except StopIteration:
                        stop = StopIteration()
                        break
                    except Exception as exc:  # cancelled (or the stream failed): send nothing more
                        stop = exc
                        break
                    self._pending.append((item, self._pool.submit(self.call, item)))
                    sent += 1
                if not self._pending:
                    break
                yield self._take()
            if stop is not None and not isinstance(stop, StopIteration):
                raise stop
        finally:
            self.drain_quietly()

    def each(self, items: Iterable[A], settle: Callable[[A, R | Exception, bool], None]) -> None:
        """``settle(item, outcome, True)`` for each item, in order. When ``settle`` raises (a stop), the
        calls still in flight are waited for and each settled with ``False`` before the exception goes on."""
        try:
            for item, outcome in self.run(items):
                settle(item, outcome, True)
        finally:
            for item, outcome in self.drain():
                settle(item, outcome, False)

    def drain(self) -> list[tuple[A, R | Exception]]:
        """The calls still in flight, waited for, in order (empty when the run was iterated to its end)."""
        out = []
        while self._pending:
            out.append(self._take())
        self.drain_quietly()
        return out

    def drain_quietly(self) -> None:
        """Wait for the pool's threads (what :meth:`drain` did not hand out is dropped)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def _take(self) -> tuple[A, R | Exception]:
        item, future = self._pending.popleft()
        try:
            return item, future.result()
        except Exception as exc:
            return item, exc

    def _serial(self, items: Iterable[A]) -> Iterator[tuple[A, R | Exception]]:
        source = iter(items)
        while True:
            self.check()
            try:
                item = next(source)
            except StopIteration:
                return
            try:
                result: R | Exception = self.call(item)
            except Exception as exc:
                result = exc
            yield item, result


def paged(fetch: Callable[[int, int], tuple[list[T], int]], size: int, width: int, *, start: int = 0,
          check: Callable[[], None] = lambda: None) -> Iterator[T]:
    """Every item of an offset-paged listing, in order: the first page (which tells the total), then the
    other pages up to ``width`` in flight. ``fetch(offset, limit) -> (items, total)``; offsets count from
    ``start`` (Rally's are 1-based).

    The stride is what the first page held (a server that caps its pages silently shrinks it). A short
    page before the end, or a total that grew meanwhile, continues one page after another from there,
    as a plain paged loop would: no item is skipped.
    """
    check()
    first, total = fetch(start, size)
    yield from first
    stride = len(first)
    offset = start + stride  # the next item not read yet
    if stride and stride < total:
        pool: Overlap[int, tuple[list[T], int]] = Overlap(lambda at: fetch(at, stride), width, check=check,
                                                          first_alone=False, name="almdesk-pages")
        try:
            for at, result in pool.run(range(offset, start + total, stride)):
                if isinstance(result, Exception):
                    raise result
                items, now = result
                yield from items
                offset, total = at + len(items), max(total, now)
                if len(items) < stride:
                    break
        finally:
            pool.drain()
    elif not stride:
        return
    while offset - start < total:  # a short page, or items added meanwhile: the rest one page at a time
        check()
        items, total = fetch(offset, size)
        if not items:
            return
        yield from items
        offset += len(items)
