"""What a system is: one declaration (fields, target input, SD Elements mapping, capabilities) and
the protocols its operations follow.

A system package (``almdesk.systems.octane`` …) exposes ``SYSTEM``, an object satisfying
:class:`System`, usually a :class:`Declared` subclass. The registry (:mod:`almdesk.systems.registry`)
checks each declaration and puts every system behind the common answer guard; nothing outside the
system's package needs to know about it. The data a system is built from (fields, settings,
records) is the ground floor, :mod:`almdesk.base`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from almdesk.base.fields import Field
from almdesk.base.records import (
    CreatedItem,
    DefectRequest,
    GateRequest,
    GateResult,
    ItemDraft,
    RemoteItem,
    Step,
)
from almdesk.base.settings import ConnectionSettings, ConnectorSettings
from almdesk.errors import ConfigError

if TYPE_CHECKING:
    from almdesk.jobs.context import JobContext
    from almdesk.net.session import HttpFactory


class Capability(enum.StrEnum):
    """What a system can do; the GUI and the CLI offer only what a system declares."""

    TEST = "test"  # Test Connection steps
    SYNC = "sync"  # a sync adapter: the system is the ALM side of a sync
    GATE = "gate"  # a release gate counting its defects
    DEFECT = "defect"  # Create Defect
    WORKSPACES = "workspaces"  # lists the workspaces a connector can use, to pick from after sign-in
    TASK_SOURCE = "task_source"  # a project's tasks come from it (SD Elements)
    REMOTE_ADMIN = "remote_admin"  # it keeps ALM connectors and connections of its own (SD Elements)
    CHOICES = "choices"  # lists the values some fields can take (projects, issue types, phases…) from the server


ALM_TARGET = frozenset({Capability.TEST, Capability.SYNC, Capability.GATE, Capability.DEFECT})


@dataclass(frozen=True)
class TargetInput:
    """What names a connection's target (the ALM project) when a gate or defect runs on a connector.

    ``label`` and ``placeholder`` are what the form shows; ``fields`` are the connection params a
    target typed there stands in for (e.g. Octane's ``workspace``, GitHub's owner and repository).
    """

    label: str = "Workspace"
    placeholder: str = "workspace / project (empty: the connector's own)"
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class SystemMap:
    """How one system's sdetools / SD Elements parameters map to its almdesk field names.

    Per sdetools name, candidate almdesk field names: the first one the system really declares wins,
    so the mapping follows the schema as it evolves. Used by import/export (:mod:`almdesk.transfer`).
    """

    sde_ids: tuple[str, ...] = ()
    url_fields: tuple[str, ...] = ("url", "server_url", "alm_server", "server", "location")
    renames: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    secrets: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    auth_choices: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # sdetools secret → auth value
    default_host: str = ""
    enterprise_suffix: str = ""  # appended to the URL of a server other than default_host
    cloud_hosts: tuple[str, ...] = ()  # host suffixes of the vendor's cloud
    auth_on_premises: Mapping[str, str] = field(default_factory=dict)  # sdetools secret → auth off the cloud
    retired: Mapping[str, str] = field(default_factory=dict)  # sdetools names almdesk does not need, and why


_USER = ("alm_user", "user", "username", "email")
_PASS = ("alm_pass", "password", "api_token", "token")
SDE_TOKEN_NAMES = ("alm_api_token", "api_token", "token", "personal_access_token", "pat", "alm_api_key", "api_key")
SDE_USER_NAMES = _USER
# The mapping of a system that declares none: the common sdetools names.
FALLBACK_MAP = SystemMap(renames={"alm_user": _USER}, secrets={"alm_pass": _PASS, "alm_api_token": SDE_TOKEN_NAMES})


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


class ChoicesModule(Protocol):
    """A system's ``choices`` module: what the server can list for a form's pickers.

    ``LISTABLE`` names the fields (connector or connection params, and the gate's ``release``) it lists.
    ``choices`` returns (value, label) pairs for one of them, from the connector settings and the params
    as given (unsaved edits included); a missing prerequisite (the project before its issue types) is a
    ConfigError naming that field.
    """

    LISTABLE: frozenset[str]

    def choices(self, field: str, connector: ConnectorSettings, params: Mapping[str, Any],
                http: HttpFactory) -> list[tuple[str, str]]: ...


class Declared:
    """Defaults of a system's declaration; a system class overrides what differs.

    Test Connection, Create Defect and the gate are delegated to the system's ``steps_module`` and
    ``actions_module``. ``secret_query_keys``/``secret_names`` are names this system's wire protocol uses for
    credentials that the generic redaction would not recognise (Rally's ``?key=``); the trace
    masks them. ``client_packages`` are the vendor client libraries whose versions the support
    bundle lists.
    """

    capabilities: frozenset[Capability] = ALM_TARGET
    target: TargetInput = TargetInput()
    sde_map: SystemMap = FALLBACK_MAP
    secret_query_keys: tuple[str, ...] = ()
    secret_names: tuple[str, ...] = ()
    client_packages: tuple[str, ...] = ()
    steps_module: StepsModule
    actions_module: ActionsModule
    choices_module: ChoicesModule | None = None  # with :attr:`Capability.CHOICES`

    @property
    def listable(self) -> frozenset[str]:
        """The fields :meth:`choices` can list (none without :attr:`Capability.CHOICES`)."""
        if Capability.CHOICES not in self.capabilities or self.choices_module is None:
            return frozenset()
        return self.choices_module.LISTABLE

    def choices(self, field: str, connector: ConnectorSettings, params: Mapping[str, Any],
                http: HttpFactory) -> list[tuple[str, str]]:
        """(value, label) of what the server offers for ``field``; only for a field in :attr:`listable`."""
        if field not in self.listable or self.choices_module is None:
            raise ConfigError(f"{getattr(self, 'label', 'This system')} cannot list the values of {field!r}.",
                              "Type the value instead.", field=field)
        return self.choices_module.choices(field, connector, params, http)

    def test_steps(self, connector: ConnectorSettings, connection: ConnectionSettings | None,
                   http: HttpFactory) -> list[Step]:
        return self.steps_module.test_steps(connector, connection, http)

    def create_defect(self, connection: ConnectionSettings, request: DefectRequest, http: HttpFactory,
                      ctx: JobContext) -> CreatedItem:
        return self.actions_module.create_defect(connection, request, http, ctx)

    def gate(self, connection: ConnectionSettings, request: GateRequest, http: HttpFactory,
             ctx: JobContext) -> GateResult:
        return self.actions_module.gate(connection, request, http, ctx)

    def check_connection(self, params: dict[str, Any], connector: ConnectorSettings | None = None) -> dict[str, Any]:
        """Cross-field checks of a connection's params (none by default); raises ConfigError/FieldErrors."""
        return params

    def base_url(self, connector: ConnectorSettings) -> str:
        """The server's URL (every system implements it)."""
        raise NotImplementedError

    def project_test_steps(self, connector: ConnectorSettings, project: int, http: HttpFactory) -> list[Step]:
        """Test Connection for a project bound to server project ``project``; only with
        :attr:`Capability.TASK_SOURCE`."""
        raise ConfigError(f"{getattr(self, 'label', 'This system')} is not a task source.",
                          "Bind projects to an SD Elements connector.", field="source")

    def target_key(self, connection: ConnectionSettings) -> tuple[str, ...]:
        """The connection's ALM target as comparable text (two connections with the same key share
        one ALM project); by default the server's base URL and ``alm_project``."""
        return (self.base_url(connection.connector).rstrip("/").lower(),
                str(connection.params.get("alm_project") or "").strip().lower())

    def workspaces(self, connector: ConnectorSettings, http: HttpFactory) -> list[tuple[str, str]]:
        """(id, name) of the workspaces the connector can use; only with :attr:`Capability.WORKSPACES`."""
        raise ConfigError(f"{getattr(self, 'label', 'This system')} has no workspaces to pick from.",
                          "Type the workspace or project instead.", field="workspace")


class SyncAdapter(Protocol):
    """What the sync engine needs from a system, for one connection.

    ``iter_items`` lists every candidate item of the connection's target (project + label) in
    pages, so a whole sync costs about ceil(N/page) reads. ``create_items`` receives at most
    ``bulk_size`` drafts and returns, in order, a RemoteItem or the UserFacingError for each.
    A draft whose create was sent but whose outcome is unknown (read timeout, HTTP 504, a
    connection reset after sending) gets a :class:`FateUnknown` (see :func:`with_fate`): the
    engine then does not create that task again until twice the connector's timeout has passed,
    because the server may still make the item after the next sync has looked for it.

    Optional: ``find_items(refs: list[str]) -> dict[str, RemoteItem]`` — the items of ``refs``
    (refs of stored links that the listing did not show) that still exist in the connection's
    target, read directly, keyed by the ref asked for (the item's own ref may differ, e.g. a
    moved Jira issue's new key). Offer it when the listing may lag behind writes (Jira Cloud's
    search is eventually consistent): without it, a re-sync right after a create takes the new
    items for deleted ones and creates them again. Refs not found are left out; a failure raises
    a UserFacingError, and the engine then stops the sync rather than risk duplicates.

    Optional: ``concurrency: int`` — how many ``create_items`` calls the engine may have in flight at
    once (:mod:`almdesk.sync.overlap`; 1 when absent), within the vendor's published limit. The first
    call of a sync runs alone, the others from worker threads: what an adapter learns once per sync
    (a status, a tag it makes) it keeps under a lock; its session is shared.

    Identity (:mod:`almdesk.systems.marks`): items created carry the mark of the connection's
    ``alm_context`` (a label or tag, where the system has one) and listed items report theirs in
    ``RemoteItem.marks``. Optional: ``get_item(text) -> RemoteItem`` — the item named by key, number or
    URL, checked to be in the connection's target (a ConfigError with ``field="item"`` otherwise), for
    ``almdesk link``.
    """

    bulk_size: int
    page_size: int

    def prepare(self) -> None: ...

    def iter_items(self) -> Iterator[RemoteItem]: ...

    def create_items(self, drafts: Sequence[ItemDraft]) -> list[RemoteItem | Exception]: ...

    def set_done(self, item: RemoteItem, done: bool) -> RemoteItem: ...

    def close(self) -> None: ...


class System(Protocol):
    """A system almdesk talks to. See the system packages for implementations."""

    name: str
    label: str
    connector_fields: tuple[Field, ...]
    connection_fields: tuple[Field, ...]  # system-specific connection params (Target/Status)
    item_noun: str  # "defect", "issue", "work item"
    capabilities: frozenset[Capability]
    target: TargetInput
    sde_map: SystemMap
    secret_query_keys: tuple[str, ...]
    secret_names: tuple[str, ...]
    client_packages: tuple[str, ...]

    def check_connection(self, params: dict[str, Any], connector: ConnectorSettings | None = None) -> dict[str, Any]:
        ...

    def workspaces(self, connector: ConnectorSettings, http: HttpFactory) -> list[tuple[str, str]]: ...

    @property
    def listable(self) -> frozenset[str]: ...

    def choices(self, field: str, connector: ConnectorSettings, params: Mapping[str, Any],
                http: HttpFactory) -> list[tuple[str, str]]: ...

    def project_test_steps(self, connector: ConnectorSettings, project: int, http: HttpFactory) -> list[Step]: ...

    def target_key(self, connection: ConnectionSettings) -> tuple[str, ...]: ...

    def check_connector(self, params: dict[str, Any]) -> dict[str, Any]:
        """Cross-field checks and derivations (e.g. Octane Location → shared space/workspace).

        Receives the parsed params, returns them (possibly completed); raises ConfigError/FieldErrors.
        """
        ...

    def base_url(self, connector: ConnectorSettings) -> str: ...

    def test_steps(self, connector: ConnectorSettings, connection: ConnectionSettings | None,
                   http: HttpFactory) -> list[Step]: ...

    def create_defect(self, connection: ConnectionSettings, request: DefectRequest, http: HttpFactory,
                      ctx: JobContext) -> CreatedItem: ...

    def gate(self, connection: ConnectionSettings, request: GateRequest, http: HttpFactory,
             ctx: JobContext) -> GateResult: ...

    def sync_adapter(self, connection: ConnectionSettings, http: HttpFactory, ctx: JobContext) -> SyncAdapter: ...
