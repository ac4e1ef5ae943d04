"""The Jira sandbox's data: users, projects, issue types, workflows, fields and issues.

Plain dataclasses held by one :class:`JiraData` per sandbox (guarded by the app's lock). Statuses and
transitions are shared the way Jira shares them: a workflow per issue type, so Bugs go through the
classic *Close Issue / Reopen Issue* workflow while Tasks use the simplified *To Do / In Progress / Done*.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property, lru_cache
from typing import Any

CATEGORIES: dict[str, tuple[int, str, str]] = {  # key -> (id, name, colour)
    "new": (2, "To Do", "blue-gray"),
    "indeterminate": (4, "In Progress", "yellow"),
    "done": (3, "Done", "green"),
}

ALL_PERMISSIONS = ("BROWSE_PROJECTS", "CREATE_ISSUES", "EDIT_ISSUES", "TRANSITION_ISSUES", "RESOLVE_ISSUES",
                   "CLOSE_ISSUES", "ADD_COMMENTS", "ASSIGN_ISSUES")


@dataclass
class Status:
    id: str
    name: str
    category: str  # new | indeterminate | done
    description: str = ""


@dataclass
class Transition:
    id: str
    name: str
    to: str  # status id
    sources: tuple[str, ...] | None = None  # None: global (from any other status)
    required: tuple[str, ...] = ()  # field ids the transition screen requires
    resolution: str | None = ""  # "" keep, None clear, else set this resolution name when not given


@dataclass
class Workflow:
    name: str
    initial: str
    transitions: list[Transition]

    def available(self, status_id: str) -> list[Transition]:
        out = []
        for t in self.transitions:
            if t.sources is None:
                if t.to != status_id:
                    out.append(t)
            elif status_id in t.sources:
                out.append(t)
        return out


@dataclass
class IssueType:
    id: str
    name: str
    subtask: bool = False
    description: str = ""
    level: int = 0


@dataclass
class FieldDef:
    id: str
    name: str
    schema: dict[str, Any]
    custom: bool = False
    clause_names: tuple[str, ...] = ()
    allowed: tuple[str, ...] = ()  # option values for option fields
    orderable: bool = True
    navigable: bool = True
    searchable: bool = True


@dataclass
class ScreenField:
    required: bool = False
    default: Any = None


@dataclass
class Version:
    id: str
    name: str
    project_id: str
    released: bool = False
    archived: bool = False


@dataclass
class Project:
    id: str
    key: str
    name: str
    lead: str  # user key
    issue_types: list[str]  # issue type ids
    workflows: dict[str, Workflow]  # issue type id -> workflow
    screens: dict[str, dict[str, ScreenField]]  # issue type id -> create-screen fields
    versions: list[Version] = field(default_factory=list)
    counter: int = 0
    description: str = ""


@dataclass
class User:
    key: str  # DC user key / Cloud account id
    name: str  # DC username
    email: str
    display: str
    password: str = ""
    api_token: str = ""  # Cloud
    pat: str = ""  # Data Center
    permissions: frozenset[str] = frozenset(ALL_PERMISSIONS)
    time_zone: str = "UTC"


@dataclass
class Issue:
    id: int
    key: str
    project: str  # project id
    issuetype: str
    summary: str
    status: str
    created: datetime
    updated: datetime
    reporter: str
    description: str = ""  # plain text; rendered as ADF in v3
    labels: list[str] = field(default_factory=list)
    priority: str | None = None  # priority id
    fix_versions: list[str] = field(default_factory=list)  # version ids
    parent: int | None = None
    resolution: str | None = None  # resolution id
    resolved: datetime | None = None
    custom: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def number(self) -> int:  # an issue's key never changes in the sandbox
        return int(self.key.rsplit("-", 1)[1])


def now() -> datetime:
    return datetime.now(UTC)


@lru_cache(maxsize=1 << 16)
def jira_time(value: datetime) -> str:
    """Jira's timestamp format: 2025-01-07T10:11:12.345+0000 (cached: a listing renders the same stamps again)."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


class SearchChains:
    """The evaluated, sorted results of Cloud searches, one per ``nextPageToken`` chain (issue ids).

    A chain is made by a search's first page and read by the pages after it, so a listing of N issues
    evaluates its JQL once instead of once per page. At most ``size`` chains are kept (least recently used
    go first); a chain is only served to the user and the query that made it.
    """

    def __init__(self, size: int = 32) -> None:
        self.size = size
        self._chains: OrderedDict[int, tuple[str, str, list[int]]] = OrderedDict()
        self._next = 0
        self.evaluations = 0  # searches evaluated (chains made or remade), for tests

    def get(self, chain: int, user: str, jql: str) -> list[int] | None:
        entry = self._chains.get(chain)
        if entry is None or entry[0] != user or entry[1] != jql:
            return None
        self._chains.move_to_end(chain)
        return entry[2]

    def put(self, chain: int | None, user: str, jql: str, ids: list[int]) -> int:
        """Keep ``ids`` as chain ``chain`` (a new chain when None); returns the chain's number."""
        self.evaluations += 1
        if chain is None:
            self._next += 1
            chain = self._next
        self._chains[chain] = (user, jql, ids)
        self._chains.move_to_end(chain)
        while len(self._chains) > self.size:
            self._chains.popitem(last=False)
        return chain

    def __len__(self) -> int:
        return len(self._chains)


class JiraData:
    """Everything one sandbox holds. Callers hold the app's lock around reads and writes."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.users: dict[str, User] = {}
        self.projects: dict[str, Project] = {}  # id -> project
        self.issue_types: dict[str, IssueType] = {}
        self.statuses: dict[str, Status] = {}
        self.fields: dict[str, FieldDef] = {}
        self.priorities: list[tuple[str, str]] = []  # (id, name), highest first
        self.default_priority = ""
        self.resolutions: list[tuple[str, str]] = []  # (id, name)
        self.issues: dict[int, Issue] = {}
        self.by_key: dict[str, int] = {}
        self.next_issue_id = 10000
        self.next_version_id = 10000
        self.search_lag = 0  # Cloud: searches a new issue stays invisible to (unless reconciled)
        self.unindexed: dict[int, int] = {}  # issue id -> searches left before search sees it
        self.search_chains = SearchChains()  # Cloud search results kept for their nextPageToken chains

    # --- lookups (case-insensitive names, as Jira resolves them) ----------------------------
    def project(self, id_or_key: str) -> Project | None:
        if id_or_key in self.projects:
            return self.projects[id_or_key]
        for p in self.projects.values():
            if p.key == id_or_key:
                return p
        return None

    def project_by_any(self, value: str) -> Project | None:
        """JQL's project resolution: id, key (any case) or name."""
        low = value.lower()
        return self.project(value) or next(
            (p for p in self.projects.values() if p.key.lower() == low or p.name.lower() == low), None)

    def issue(self, id_or_key: str) -> Issue | None:
        text = str(id_or_key)
        if text.isdigit() and int(text) in self.issues:
            return self.issues[int(text)]
        iid = self.by_key.get(text.upper())
        return self.issues.get(iid) if iid is not None else None

    def issuetype_named(self, name: str, project: Project | None = None) -> IssueType | None:
        ids = project.issue_types if project else list(self.issue_types)
        low = name.lower()
        return next((self.issue_types[i] for i in ids if self.issue_types[i].name.lower() == low or i == name), None)

    def status_named(self, name: str) -> Status | None:
        low = name.lower()
        return next((s for s in self.statuses.values() if s.name.lower() == low or s.id == name), None)

    def priority_named(self, name: str) -> tuple[str, str] | None:
        low = name.lower()
        return next((p for p in self.priorities if p[1].lower() == low or p[0] == name), None)

    def priority_name(self, pid: str | None) -> str:
        return next((n for i, n in self.priorities if i == pid), "")

    def resolution_named(self, name: str) -> tuple[str, str] | None:
        low = name.lower()
        return next((r for r in self.resolutions if r[1].lower() == low or r[0] == name), None)

    def resolution_name(self, rid: str | None) -> str:
        return next((n for i, n in self.resolutions if i == rid), "")

    def field_by_any(self, name: str) -> FieldDef | None:
        """A field by id, by a clause name, by name, or ``cf[10050]``."""
        low = name.lower()
        if low.startswith("cf[") and low.endswith("]"):
            return self.fields.get(f"customfield_{low[3:-1]}")
        if name in self.fields:
            return self.fields[name]
        for f in self.fields.values():
            if low in (c.lower() for c in f.clause_names) or f.name.lower() == low:
                return f
        return None

    def version(self, vid: str) -> Version | None:
        for p in self.projects.values():
            for v in p.versions:
                if v.id == vid:
                    return v
        return None

    def workflow_for(self, issue: Issue) -> Workflow:
        return self.projects[issue.project].workflows[issue.issuetype]

    def all_labels(self) -> list[str]:
        return sorted({label for i in self.issues.values() for label in i.labels})

    # --- writes ---------------------------------------------------------------------------
    def add_issue(self, project: Project, issuetype: IssueType, summary: str, reporter: str, *,
                  when: datetime | None = None, **values: Any) -> Issue:
        project.counter += 1
        self.next_issue_id += 1
        stamp = when or now()
        issue = Issue(id=self.next_issue_id, key=f"{project.key}-{project.counter}", project=project.id,
                      issuetype=issuetype.id, summary=summary, status=project.workflows[issuetype.id].initial,
                      created=stamp, updated=stamp, reporter=reporter, **values)
        if issue.priority is None and "priority" in project.screens.get(issuetype.id, {}):
            issue.priority = self.default_priority
        self.issues[issue.id] = issue
        self.by_key[issue.key] = issue.id
        return issue

    def add_version(self, project: Project, name: str, released: bool = False) -> Version:
        self.next_version_id += 1
        version = Version(str(self.next_version_id), name, project.id, released)
        project.versions.append(version)
        return version
