"""Which tasks a connection syncs (sdetools' ``in_scope``) and which missing items it may create.

All must hold: phase ∈ ``alm_phases``; priority ≥ ``sde_min_priority``; every ``sde_tags_filter``
tag is on the task; verification ∈ ``sde_verification_filter``, a task without a verification counting
as ``none`` ("empty = none"; an empty filter does not filter, as in sdetools). An empty phase list
selects nothing. ``sde_statuses_in_scope`` gates
**creation only**: items that already exist are synced whatever the task's status.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from almdesk.base.fields import split_list

DONE_STATUSES = frozenset({"DONE", "NA"})


def task_done(status: str) -> bool:
    """A task counts as done in the ALM sense when it is DONE or NA."""
    return status.upper() in DONE_STATUSES


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return split_list(value)
    return [str(v).strip() for v in value if str(v).strip()]


@dataclass(frozen=True)
class Scope:
    """The scope filters of one connection, parsed once."""

    phases: frozenset[str]
    min_priority: int
    tags: frozenset[str]
    verifications: frozenset[str]
    create_statuses: frozenset[str]

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> Scope:
        return cls(
            phases=frozenset(p.lower() for p in _as_list(params.get("alm_phases"))),
            min_priority=int(params.get("sde_min_priority") or 1),
            tags=frozenset(_as_list(params.get("sde_tags_filter"))),
            verifications=frozenset(v.lower() for v in _as_list(params.get("sde_verification_filter"))),
            create_statuses=frozenset(s.upper() for s in _as_list(params.get("sde_statuses_in_scope"))),
        )

    def excluded_by(self, phase: str, priority: int, tags: Iterable[str], verification: str | None) -> str:
        """Why a task is out of scope ("" when it is in scope)."""
        if (phase or "").lower() not in self.phases:
            return f"phase {phase or '(none)'} not in the connection's phases"
        if priority < self.min_priority:
            return f"priority {priority} below {self.min_priority}"
        missing = self.tags - set(tags)
        if missing:
            return f"missing tag(s) {', '.join(sorted(missing))}"
        ver = (verification or "none").lower()
        if self.verifications and ver not in self.verifications:
            return f"verification {ver} not selected"
        return ""

    def may_create(self, status: str) -> bool:
        return status.upper() in self.create_statuses
