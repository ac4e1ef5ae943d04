"""What a system is: its field schema, its connector/connection settings, and the protocol it implements.

The GUI builds its forms from :class:`Field` lists and the CLI validates ``--param`` values with
them. A system package (``almdesk.systems.octane`` …) exposes ``SYSTEM``, an object satisfying
:class:`System`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from almdesk.errors import ConfigError, RemoteError, UserFacingError

if TYPE_CHECKING:
    from almdesk.jobs.context import JobContext
    from almdesk.net.session import HttpFactory


class FieldKind(enum.StrEnum):
    """The kinds of value a field holds; each maps to one editor widget."""

    TEXT = "text"
    SECRET = "secret"
    URL = "url"
    INT = "int"
    CHOICE = "choice"
    MULTI_CHOICE = "multi-choice"
    BOOL = "bool"


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class Field:
    """One setting of a connector or a connection.

    ``section`` groups fields in the connection editor (General, Target, Scope, Status).
    ``minimum``/``maximum`` bound ``INT`` fields. Secret fields are stored only in the keyring.

    What an empty value means is decided per field. By default an empty value asks for the
    ``default``. With ``allow_empty`` an *explicit* empty value (``""`` or ``[]``) is a value of its
    own — the user cleared the field, e.g. "no label" — and is kept through save and reload; only
    a missing value (``None``, a key that is not there) still gives the ``default``.
    """

    name: str
    label: str
    kind: FieldKind = FieldKind.TEXT
    default: Any = None
    required: bool = False
    help: str = ""
    choices: tuple[str, ...] = ()
    section: str = "Target"
    placeholder: str = ""
    minimum: int | None = None
    maximum: int | None = None
    choice_labels: tuple[str, ...] = ()  # what forms show for each of ``choices`` (same order)
    allow_empty: bool = False  # an explicit empty value is kept (cleared), not replaced by the default

    def parse(self, raw: Any) -> Any:
        """Turn a raw value (text from a form or the CLI, or a JSON value) into a typed one.

        Raises :class:`ConfigError` naming the field and the fix. Empty values give the default
        (or raise when the field is required) unless the field ``allow_empty``: then an explicit
        ``""``/``[]`` stays empty and only ``None`` gives the default.
        """
        if isinstance(raw, str):
            raw = raw.strip()
        empty = raw is None or raw == "" or raw == []
        if empty and self.allow_empty and raw is not None and not self.required:
            return [] if self.kind is FieldKind.MULTI_CHOICE else ""
        if empty:
            if self.required and self.default in (None, "", []):
                raise ConfigError(f"{self.label} is required.", self.help or f"Enter a value for {self.label}.",
                                  field=self.name)
            return self.default
        kind = self.kind
        if kind is FieldKind.INT:
            try:
                value = int(raw)
            except (TypeError, ValueError):
                raise ConfigError(f"{self.label} must be a whole number, not {raw!r}.",
                                  self._range_hint(), field=self.name) from None
            if (self.minimum is not None and value < self.minimum) or (
                    self.maximum is not None and value > self.maximum):
                raise ConfigError(f"{self.label} is {value}, outside the allowed range.", self._range_hint(),
                                  field=self.name)
            return value
        if kind is FieldKind.BOOL:
            if isinstance(raw, bool):
                return raw
            text = str(raw).lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
            raise ConfigError(f"{self.label} must be true or false, not {raw!r}.", "Use true or false.",
                              field=self.name)
        if kind is FieldKind.CHOICE:
            text = str(raw)
            if self.choices and text not in self.choices:
                raise ConfigError(f"{self.label} cannot be {text!r}.", f"Choose one of: {', '.join(self.choices)}.",
                                  field=self.name)
            return text
        if kind is FieldKind.MULTI_CHOICE:
            items = [str(i).strip() for i in raw] if isinstance(raw, list | tuple) else split_list(str(raw))
            if self.choices:
                bad = [i for i in items if i not in self.choices]
                if bad:
                    raise ConfigError(f"{self.label} has unknown value(s): {', '.join(bad)}.",
                                      f"Use any of: {', '.join(self.choices)}.", field=self.name)
            return items
        if kind is FieldKind.URL:
            return check_url(str(raw), self)
        return str(raw)

    def _range_hint(self) -> str:
        if self.minimum is not None and self.maximum is not None:
            return f"Enter a number from {self.minimum} to {self.maximum}."
        if self.minimum is not None:
            return f"Enter a number of at least {self.minimum}."
        return "Enter a whole number."

    def to_text(self, value: Any) -> str:
        """Render a typed value back to the text a form or the CLI shows."""
        if value is None:
            return ""
        if self.kind is FieldKind.MULTI_CHOICE and isinstance(value, list | tuple):
            return ",".join(str(v) for v in value)
        if self.kind is FieldKind.BOOL:
            return "true" if value else "false"
        return str(value)


def split_list(text: str) -> list[str]:
    """Split a comma-separated list, dropping blanks."""
    return [part.strip() for part in text.split(",") if part.strip()]


def check_url(text: str, fld: Field | None = None) -> str:
    """Validate an http(s) URL; return it without a trailing slash."""
    name = fld.name if fld else None
    label = fld.label if fld else "URL"
    text = text.strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        raise ConfigError(f"{label} is not a valid address.", "Write it like https://server.example.com.",
                          field=name) from None
    if parts.scheme not in ("http", "https"):
        raise ConfigError(f"{label} must start with https:// or http://.",
                          f"Write the full address, for example https://{text or 'server.example.com'}.",
                          field=name)
    try:
        port = parts.port
    except ValueError:
        raise ConfigError(f"{label} has an invalid port.", "The port must be a number from 1 to 65535.",
                          field=name) from None
    if not parts.hostname:
        raise ConfigError(f"{label} has no host name.", "Write it like https://server.example.com.", field=name)
    del port
    return text.rstrip("/")


def is_loopback(host: str | None) -> bool:
    """True for localhost and loopback addresses (plain http is fine there)."""
    return bool(host) and (host in ("localhost", "::1") or str(host).startswith("127."))


def parse_fields(fields: Sequence[Field], raw: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Parse every field of ``fields`` from ``raw``; collect all errors, not just the first.

    Raises :class:`FieldErrors` (a :class:`ConfigError`) listing each bad field. Unknown keys are
    an error too, so a typo in ``--param`` is caught. With ``partial`` only keys present are parsed.
    """
    known = {f.name for f in fields}
    errors: dict[str, ConfigError] = {}
    for key in raw:
        if key not in known:
            errors[key] = ConfigError(f"Unknown setting {key!r}.",
                                      f"Known settings: {', '.join(sorted(known))}.", field=key)
    out: dict[str, Any] = {}
    for f in fields:
        if f.kind is FieldKind.SECRET or (partial and f.name not in raw):
            continue
        try:
            out[f.name] = f.parse(raw.get(f.name))
        except ConfigError as exc:
            errors[f.name] = exc
    if errors:
        raise FieldErrors(errors)
    return out


class FieldErrors(ConfigError):
    """Several field-level errors at once; ``errors`` maps field name to its error."""

    def __init__(self, errors: Mapping[str, ConfigError]) -> None:
        self.errors = dict(errors)
        first = next(iter(self.errors.values()))
        lines = [str(e) for e in self.errors.values()]
        super().__init__("\n".join(lines) if len(lines) > 1 else first.message,
                         "" if len(lines) > 1 else first.hint, field=first.field)


# ---------------------------------------------------------------------------------------------
# Settings handed to a system (plain data; ids not ORM objects cross threads).


@dataclass
class NetworkSettings:
    """How a connector reaches its server."""

    verify: bool = True
    ca_bundle: str = ""
    proxy_mode: str = "system"  # system | explicit | none
    proxy_url: str = ""
    proxy_user: str = ""
    no_proxy: str = ""
    timeout: float = 30.0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> NetworkSettings:
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in (data or {}).items() if k in known})


@dataclass
class ConnectorSettings:
    """A connector as a system sees it: parsed params, secrets from the keyring, network."""

    name: str
    system: str
    params: dict[str, Any]
    secrets: dict[str, str] = field(default_factory=dict)
    network: NetworkSettings = field(default_factory=NetworkSettings)
    uid: str = ""

    def secret(self, key: str) -> str:
        return self.secrets.get(key, "")


@dataclass
class ConnectionSettings:
    """A connection: its connector, parsed params (system + common), and the project it syncs."""

    alias: str
    connector: ConnectorSettings
    params: dict[str, Any]
    project: str = ""
    business_unit: str = ""
    application: str = ""
    debug: bool = False
    id: int | None = None


# ---------------------------------------------------------------------------------------------
# Results


@dataclass
class Step:
    """One step of Test Connection: a title and a callable that returns a one-line detail.

    The callable raises :class:`~almdesk.errors.UserFacingError` when the step fails; the message
    says what failed and the hint how to fix it.
    """

    key: str
    title: str
    run: Callable[[], str]


@dataclass
class StepResult:
    key: str
    title: str
    status: str  # pending | running | ok | failed | skipped | warning
    detail: str = ""
    hint: str = ""
    seconds: float = 0.0
    field: str | None = None
    exit_code: int = 0  # the failing error's CLI exit code (3: unreachable / authentication)


@dataclass
class CreatedItem:
    """What Create Defect / create issue returns."""

    id: str
    key: str
    url: str
    title: str = ""


@dataclass
class DefectRequest:
    name: str
    description: str = ""
    release: str = ""
    severity: str = ""
    phase: str = ""
    workspace: str = ""  # overrides the connection's workspace/project when given


OPERATORS: dict[str, Callable[[int, int], bool]] = {
    "<": lambda c, t: c < t,
    "<=": lambda c, t: c <= t,
    "=": lambda c, t: c == t,
    ">=": lambda c, t: c >= t,
    ">": lambda c, t: c > t,
}
# XL Release's Octane plugin: LT passes when count <= threshold, GT when count >= threshold.
XLR_OPERATORS = {"LT": "<=", "GT": ">=", "EQ": "="}


def normalize_operator(op: str) -> str:
    """Map an operator (explicit or XL Release's LT/GT/EQ) to one of ``< <= = >= >``."""
    op = op.strip()
    op = XLR_OPERATORS.get(op.upper(), op)
    if op == "==":
        op = "="
    if op not in OPERATORS:
        raise ConfigError(f"Operator {op!r} is not known.", "Use one of < <= = >= > (or LT, GT, EQ).",
                          field="operator")
    return op


@dataclass
class GateRequest:
    release: str = ""
    phases: list[str] = field(default_factory=list)
    severities: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    threshold: int = 0
    operator: str = "<="
    workspace: str = ""


@dataclass
class GateItem:
    id: str
    key: str
    title: str
    url: str
    status: str = ""


@dataclass
class GateResult:
    count: int
    threshold: int
    operator: str
    query: str  # human-readable description of what was counted
    requests: int = 0
    items: Callable[[int, int], list[GateItem]] | None = None  # (offset, limit) -> page, on demand

    @property
    def passed(self) -> bool:
        return OPERATORS[self.operator](self.count, self.threshold)

    @property
    def message(self) -> str:
        verdict = "passed" if self.passed else "failed"
        return f"Gate {verdict}: {self.count} matching item(s); condition count {self.operator} {self.threshold}."


# ---------------------------------------------------------------------------------------------
# Sync adapter contract (the engine in almdesk.sync drives it)


@dataclass
class RemoteItem:
    """An ALM item as the sync engine sees it."""

    ref: str  # the id used in API calls (Octane id, Jira key, GitHub number, Rally ObjectID)
    key: str  # what people see (Octane id, PROJ-12, #12, US12)
    title: str
    url: str
    done: bool
    status: str = ""
    updated: datetime | None = None  # timezone-aware
    marks: tuple[str, ...] = ()  # almdesk context marks among its labels/tags (almdesk.systems.marks)


@dataclass
class ItemDraft:
    """A task to create in the ALM."""

    task_id: str
    title: str  # full title (alm_title_format applied)
    text: str
    priority: int
    tags: list[str]
    done: bool  # the task is DONE/NA: close right after creation


class FateUnknown(RemoteError):
    """A write that was sent but whose outcome is unknown: the server may still carry it out.

    A read timeout, an HTTP 504 or a connection reset after the request went out leave the
    server possibly still working (a create may land seconds later). Sync adapters return it for
    such drafts (:func:`with_fate`); the engine records the create in its journal and waits
    twice the connector's timeout before creating that task again (the lookup by title decides).
    """


FATE_UNKNOWN_STATUSES = frozenset({504})  # a gateway gave up waiting; the server behind may finish


def fate_unknown(error: BaseException | None, status: int | None = None) -> bool:
    """True when a failed write may still be carried out by the server.

    A :class:`FateUnknown`; an HTTP ``status`` (given, or an error's ``status`` attribute) of 504; or
    a failure caused (``__cause__``/``__context__``, also through suppressed ``from None``) by a read
    timeout or a connection reset/abort after sending. Not a connect timeout, a refused connection,
    DNS or TLS failures: nothing reached the server then.
    """
    import http.client

    import requests
    import urllib3

    if isinstance(error, FateUnknown):
        return True
    if status in FATE_UNKNOWN_STATUSES or getattr(error, "status", None) in FATE_UNKNOWN_STATUSES:
        return True
    for exc in error_chain(error):
        if isinstance(exc, requests.exceptions.ConnectTimeout | urllib3.exceptions.ConnectTimeoutError |
                      urllib3.exceptions.NewConnectionError | requests.exceptions.SSLError |
                      requests.exceptions.ProxyError):
            return False
        if isinstance(exc, requests.exceptions.ReadTimeout | urllib3.exceptions.ReadTimeoutError |
                      ConnectionResetError | ConnectionAbortedError | http.client.RemoteDisconnected |
                      urllib3.exceptions.ProtocolError):
            return True
    return False


def error_chain(error: BaseException | None) -> Iterator[BaseException]:
    """``error`` and every exception behind it, each once: ``__cause__`` and ``__context__`` (also
    through ``from None``), exceptions among its ``args``, and urllib3's ``MaxRetryError.reason``."""
    import urllib3

    seen: set[int] = set()
    stack: list[BaseException | None] = [error]
    while stack:
        exc = stack.pop()
        if exc is None or id(exc) in seen:
            continue
        seen.add(id(exc))
        yield exc
        if isinstance(exc, urllib3.exceptions.MaxRetryError):
            stack.append(exc.reason)
        stack.extend(a for a in getattr(exc, "args", ()) if isinstance(a, BaseException))
        stack.extend((exc.__cause__, exc.__context__))


def with_fate(error: Exception, status: int | None = None) -> Exception:
    """``error`` as a :class:`FateUnknown` when :func:`fate_unknown` says so (message kept), else unchanged."""
    if isinstance(error, FateUnknown) or not isinstance(error, UserFacingError) or not fate_unknown(error, status):
        return error
    wrapped = FateUnknown(error.message, "The server may still make the item; the next syncs wait a while "
                          "before creating it again, then find it by its title.", field=error.field)
    wrapped.__cause__ = error
    return wrapped


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
