"""Result records: Test Connection steps, Create Defect, the gate, and the items a sync reads and writes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from almdesk.errors import ConfigError


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
