"""A guard at each system's boundary: a server answer of an unexpected shape ends as a RemoteError.

Clients read JSON answers by key (``page["issues"]``, ``body.get("count")``). A proxy page, a cut or
re-shaped answer (``null``, a string where an object was, a missing key) makes that raise KeyError,
TypeError, AttributeError, ValueError or IndexError deep inside a client — found by the server-answer
fuzzer (tests/fuzz). The guard covers each system's entry points (Test Connection steps,
Create Defect, the gate and its item pages, the sync adapter's methods and item iterator), so
such answers end as a :class:`RemoteError` naming the system, with the traceback logged for the
support bundle, instead of an "internal error". The registry puts every system behind
:class:`GuardedSystem`, so a system package does not apply the guard itself.
"""

from __future__ import annotations

import functools
import logging
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

from almdesk.base.records import CreatedItem, DefectRequest, GateRequest, GateResult, RemoteItem, Step
from almdesk.base.settings import ConnectionSettings, ConnectorSettings
from almdesk.errors import RemoteError
from almdesk.systems.base import SyncAdapter, System

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
                exc_info=exc)  # where it broke goes to the log (and the support bundle), not to the message
    return RemoteError(f"{label} sent an answer that lacks or mistypes a part its API defines, so almdesk "
                       "could not read it.",
                       "Check that the server URL points at the product itself, not a proxy or a portal, and "
                       "try again; if it keeps happening, send the support bundle (its log says where).")


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


class GuardedAdapter:
    """A sync adapter behind the answer guard: its methods and its item iterator (the rest passes)."""

    def __init__(self, label: str, adapter: SyncAdapter) -> None:
        self._label = label
        self._adapter = adapter
        self.bulk_size = adapter.bulk_size
        self.page_size = adapter.page_size
        for name in ADAPTER_METHODS:
            setattr(self, name, guarded(label, getattr(adapter, name)))
        for optional in ("find_items", "get_item"):  # see SyncAdapter
            method = getattr(adapter, optional, None)
            if callable(method):
                setattr(self, optional, guarded(label, method))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._adapter, name)

    def iter_items(self) -> Iterator[RemoteItem]:
        with answers(self._label):
            yield from self._adapter.iter_items()


class GuardedSystem:
    """A system behind the answer guard, as the registry hands it out.

    Test Connection steps, Create Defect, the gate and its item pages, the workspace list and the
    sync adapter of the wrapped system end a shape error as :func:`unexpected_answer`; the
    declaration and everything else is the system's own.
    """

    def __init__(self, system: System) -> None:
        self.system = system
        self.name = system.name
        self.label = system.label
        self.item_noun = system.item_noun
        self.connector_fields = system.connector_fields
        self.connection_fields = system.connection_fields
        self.capabilities = system.capabilities
        self.target = system.target
        self.sde_map = system.sde_map
        self.secret_query_keys = system.secret_query_keys
        self.secret_names = system.secret_names
        self.client_packages = system.client_packages
        self.check_connector = system.check_connector
        self.check_connection = system.check_connection
        self.target_key = system.target_key
        self.base_url = system.base_url

    def __getattr__(self, name: str) -> Any:  # a system's own extras (e.g. Octane's parse_location)
        return getattr(self.system, name)

    def test_steps(self, connector: ConnectorSettings, connection: ConnectionSettings | None,
                   http: HttpFactory) -> list[Step]:
        with answers(self.label):
            return guard_steps(self.label, self.system.test_steps(connector, connection, http))

    def create_defect(self, connection: ConnectionSettings, request: DefectRequest, http: HttpFactory,
                      ctx: JobContext) -> CreatedItem:
        with answers(self.label):
            return self.system.create_defect(connection, request, http, ctx)

    def gate(self, connection: ConnectionSettings, request: GateRequest, http: HttpFactory,
             ctx: JobContext) -> GateResult:
        with answers(self.label):
            return guard_gate(self.label, self.system.gate(connection, request, http, ctx))

    def workspaces(self, connector: ConnectorSettings, http: HttpFactory) -> list[tuple[str, str]]:
        with answers(self.label):
            return self.system.workspaces(connector, http)

    def project_test_steps(self, connector: ConnectorSettings, project: int, http: HttpFactory) -> list[Step]:
        with answers(self.label):
            return guard_steps(self.label, self.system.project_test_steps(connector, project, http))

    def sync_adapter(self, connection: ConnectionSettings, http: HttpFactory, ctx: JobContext) -> SyncAdapter:
        with answers(self.label):
            return GuardedAdapter(self.label, self.system.sync_adapter(connection, http, ctx))
