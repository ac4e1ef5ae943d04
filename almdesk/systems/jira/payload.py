"""The ``fields`` of a new Jira issue: summary, description (ADF on Cloud), labels, priority, parent…

Priorities follow the connection's ``alm_priority_map`` (JSON ranges of 1–10), else sdetools' Jira
default (10 Blocker, 7–9 Critical, 5–6 Major, 3–4 Minor, 1–2 Trivial), mapped by rank onto the names
the create screen allows when they differ (Cloud's Highest…Lowest).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from almdesk.errors import ConfigError
from almdesk.systems.jira.adf import to_adf
from almdesk.systems.jira.resolve import DEFAULT_RANK, JIRA_DEFAULT_PRIORITIES, Resolved


def parse_priority_map(text: str) -> list[tuple[int, int, str]]:
    """``{"1-3": "Low", "10": "Blocker"}`` -> [(1, 3, 'Low'), (10, 10, 'Blocker')], each of 1..10 once."""
    raw: Any = JIRA_DEFAULT_PRIORITIES
    if text.strip():
        try:
            raw = json.loads(text)
        except ValueError:
            raw = None
        if not isinstance(raw, dict):
            raise ConfigError("Priority map is not a JSON object.",
                              'Write it like {"1-3": "Low", "4-6": "Medium", "7-10": "High"}.',
                              field="alm_priority_map")
    out: list[tuple[int, int, str]] = []
    seen: set[int] = set()
    for key, value in raw.items():
        m = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", str(key))
        if not m:
            raise ConfigError(f"Priority map key {key!r} is not a range like 1-3 or 7.",
                              "Use ranges of task priorities 1 to 10.", field="alm_priority_map")
        low, high = int(m.group(1)), int(m.group(2) or m.group(1))
        if not 1 <= low <= high <= 10:
            raise ConfigError(f"Priority map range {key!r} must go from low to high within 1-10.",
                              "Write ranges like 1-3, 4-6, 7-10.", field="alm_priority_map")
        span = set(range(low, high + 1))
        if span & seen:
            raise ConfigError(f"Priority map range {key!r} overlaps another range.",
                              "Each priority 1-10 may appear once.", field="alm_priority_map")
        seen |= span
        out.append((low, high, str(value)))
    if seen != set(range(1, 11)):
        missing = sorted(set(range(1, 11)) - seen)
        raise ConfigError(f"Priority map leaves out priorities {', '.join(map(str, missing))}.",
                          "Cover each priority 1-10 exactly once.", field="alm_priority_map")
    return out


class PriorityMapper:
    """Task priority (1–10) -> a priority name the create screen accepts, or None (field not on screen)."""

    def __init__(self, map_text: str, allowed: Sequence[str]) -> None:
        self.allowed = list(allowed)
        self.explicit = bool(map_text.strip())
        self.ranges = parse_priority_map(map_text)
        if self.explicit and self.allowed:
            lowered = {a.lower(): a for a in self.allowed}
            bad = [name for _, _, name in self.ranges if name.lower() not in lowered]
            if bad:
                raise ConfigError(f"Priority map names {', '.join(bad)}, which Jira does not offer here.",
                                  f"Priorities on the create screen: {', '.join(self.allowed)}.",
                                  field="alm_priority_map")

    def name_for(self, priority: int) -> str | None:
        if not self.allowed:
            return None
        name = next((n for low, high, n in self.ranges if low <= priority <= high), None)
        if name is None:
            return None
        lowered = {a.lower(): a for a in self.allowed}
        if name.lower() in lowered:
            return lowered[name.lower()]
        rank = DEFAULT_RANK.get(name, len(self.allowed) // 2)
        return self.allowed[min(rank, len(self.allowed) - 1)]


def safe_label(tag: str) -> str:
    """Jira labels cannot hold spaces: ``needs review`` -> ``needs-review``."""
    return re.sub(r"\s+", "-", tag.strip())


def issue_fields(found: Resolved, *, cloud: bool, summary: str, text: str, labels: Sequence[str],
                 priority: str | None, version: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``fields`` object of a create request for the resolved target."""
    fields: dict[str, Any] = {"project": {"id": str(found.project["id"])},
                              "issuetype": {"id": str(found.issue_type["id"])}, "summary": summary}
    screen = found.screen
    if text and "description" in screen:
        fields["description"] = to_adf(text) if cloud else text
    clean = [x for x in dict.fromkeys(safe_label(t) for t in labels) if x]
    if clean and "labels" in screen:
        fields["labels"] = clean
    if priority and "priority" in screen:
        fields["priority"] = {"name": priority}
    if found.parent_key:
        fields["parent"] = {"key": found.parent_key}
    chosen = version or found.version
    if chosen is not None:
        fields["fixVersions"] = [{"id": str(chosen["id"])}]
    fields.update(found.custom)
    return fields
