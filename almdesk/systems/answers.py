"""A guard at each system's boundary: a server answer of an unexpected shape ends as a RemoteError.

Clients read JSON answers by key (``page["issues"]``, ``body.get("count")``). A proxy page, a cut or
re-shaped answer (``null``, a string where an object was, a missing key) makes that raise KeyError,
TypeError, AttributeError, ValueError or IndexError deep inside a client — found by the server-answer
fuzzer (tests/fuzz). The system packages wrap their entry points with these helpers (Test Connection
steps, Create Defect, the gate and its item pages, the sync adapter's methods and item iterator), so
such answers end as a :class:`RemoteError` naming the system, with the traceback logged for the
support bundle, instead of an "internal error".
"""

from __future__ import annotations

import functools
import logging
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from almdesk.errors import RemoteError
from almdesk.systems.base import (
    ConnectionSettings,
    ConnectorSettings,
    CreatedItem,
    DefectRequest,
    GateRequest,
    GateResult,
    Step,
)

if TYPE_CHECKING:
    from almdesk.jobs.context import JobContext
    from almdesk.net.session import HttpFactory

log = logging.getLogger(__name__)

SHAPE_ERRORS = (KeyError, TypeError, AttributeError, ValueError, IndexError)
ADAPTER_METHODS = ("prepare", "create_items", "set_done", "close")
T = TypeVar("T")


def unexpected_answer(label: str, exc: BaseException) -> RemoteError:
    """The RemoteError for an answer ``label``'s client could not read; logs where it broke."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if "almdesk" in f.filename]
    where = f"{frames[-1].filename.rsplit('almdesk', 1)[-1].lstrip('/')}:{frames[-1].lineno}" if frames else "?"
    log.warning("%s sent an answer of an unexpected shape (%s at %s)", label, type(exc).__name__, where,
                exc_info=exc)
    return RemoteError(f"{label} sent an answer almdesk could not read ({type(exc).__name__} at {where}).",
                       "Check that the server URL points at the product itself, not a proxy or a portal, and "
                       "try again; if it keeps happening, send the support bundle.")


def deliberate(exc: BaseException) -> bool:
    """True when almdesk code raised ``exc`` on purpose (``raise ValueError(...)``: a caller's mistake, a bug)."""
    frames = traceback.extract_tb(exc.__traceback__)
    return bool(frames) and "almdesk" in frames[-1].filename and (frames[-1].line or "").lstrip().startswith("raise")


@contextmanager
def answers(label: str) -> Iterator[None]:
    """Turn a shape error raised inside the block into :func:`unexpected_answer` (deliberate raises pass)."""
    try:
        yield
    except SHAPE_ERRORS as exc:
        if deliberate(exc):
            raise
        raise unexpected_answer(label, exc) from exc


def guarded(label: str, fn: Callable[..., T]) -> Callable[..., T]:
    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> T:
        with answers(label):
            return fn(*args, **kwargs)

    return call


def guard_steps(label: str, steps: list[Step]) -> list[Step]:
    """The Test Connection steps with each step's callable guarded."""
    return [replace(step, run=guarded(label, step.run)) for step in steps]


def guard_gate(label: str, result: GateResult) -> GateResult:
    """The gate result with its on-demand item pages guarded."""
    if result.items is not None:
        result.items = guarded(label, result.items)
    return result


def guard_adapter(label: str) -> Callable[[type[T]], type[T]]:
    """Class decorator for a sync adapter: guard prepare/create_items/set_done/close and iter_items."""

    def decorate(cls: type[T]) -> type[T]:
        for name in ADAPTER_METHODS:
            setattr(cls, name, guarded(label, getattr(cls, name)))
        if callable(getattr(cls, "get_item", None)):  # optional: reading one item for ``almdesk link``
            setattr(cls, "get_item", guarded(label, getattr(cls, "get_item")))  # noqa: B009, B010
        iter_items: Callable[[Any], Iterator[Any]] = getattr(cls, "iter_items")  # noqa: B009

        @functools.wraps(iter_items)
        def guarded_iter(self: Any) -> Iterator[Any]:
            with answers(label):
                yield from iter_items(self)

        setattr(cls, "iter_items", guarded_iter)  # noqa: B010
        return cls

    return decorate


class StepsModule(Protocol):
    """A system's ``steps`` module."""

    def test_steps(self, connector: ConnectorSettings, connection: ConnectionSettings | None,
                   http: HttpFactory) -> list[Step]: ...


class ActionsModule(Protocol):
    """A system's ``actions`` module."""

    def create_defect(self, connection: ConnectionSettings, request: DefectRequest, http: HttpFactory,
                      ctx: JobContext) -> CreatedItem: ...

    def gate(self, connection: ConnectionSettings, request: GateRequest, http: HttpFactory,
             ctx: JobContext) -> GateResult: ...


class GuardedSystem:
    """Test Connection, Create Defect and the gate of a system, delegated to its ``steps`` and
    ``actions`` modules behind the answer guard. Subclasses set ``label`` and the two modules."""

    label: str
    steps_module: StepsModule
    actions_module: ActionsModule

    def test_steps(self, connector: ConnectorSettings, connection: ConnectionSettings | None,
                   http: HttpFactory) -> list[Step]:
        return guard_steps(self.label, self.steps_module.test_steps(connector, connection, http))

    def create_defect(self, connection: ConnectionSettings, request: DefectRequest, http: HttpFactory,
                      ctx: JobContext) -> CreatedItem:
        with answers(self.label):
            return self.actions_module.create_defect(connection, request, http, ctx)

    def gate(self, connection: ConnectionSettings, request: GateRequest, http: HttpFactory,
             ctx: JobContext) -> GateResult:
        with answers(self.label):
            return guard_gate(self.label, self.actions_module.gate(connection, request, http, ctx))
