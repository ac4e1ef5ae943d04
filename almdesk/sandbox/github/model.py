"""The GitHub sandbox's data: users, tokens, repositories, issues, labels, milestones, and who may do what.

Plain dataclasses guarded by the app's lock. Access rules follow GitHub's: public repositories are
readable by anyone, private ones only by collaborators whose token may see them (classic tokens need
the ``repo`` scope, fine-grained tokens a grant for the repository); anyone who can read may open an
issue, labels and milestones need push access, closing needs triage access or authorship.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

ROLES = ("read", "triage", "write", "maintain", "admin")


def now_iso() -> str:
    """The current UTC time as GitHub writes it (``2024-01-31T12:00:00Z``)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class User:
    login: str
    id: int
    type: str = "User"  # User | Organization | Bot
    name: str | None = None
    created_at: str = "2020-01-01T00:00:00Z"


@dataclass
class Token:
    """A personal access token: classic (``scopes`` is a tuple) or fine-grained (``scopes`` is None)."""

    value: str
    login: str
    scopes: tuple[str, ...] | None = ("repo",)
    issues_write: bool = True  # fine-grained: Issues read and write
    repos: frozenset[str] | None = None  # fine-grained: the repositories granted (full names), None = all

    @property
    def fine_grained(self) -> bool:
        return self.scopes is None


@dataclass
class Label:
    id: int
    name: str
    color: str = "ededed"
    description: str | None = None
    default: bool = False


@dataclass
class Milestone:
    id: int
    number: int
    title: str
    creator: str
    state: str = "open"
    description: str | None = None
    due_on: str | None = None
    created_at: str = "2024-01-01T00:00:00Z"
    updated_at: str = "2024-01-01T00:00:00Z"
    closed_at: str | None = None


@dataclass
class Issue:
    id: int
    number: int
    title: str
    user: str
    body: str | None = None
    state: str = "open"
    state_reason: str | None = None
    labels: list[str] = field(default_factory=list)  # label names as created (case kept)
    milestone: int | None = None
    created_at: str = "2024-01-01T00:00:00Z"
    updated_at: str = "2024-01-01T00:00:00Z"
    closed_at: str | None = None
    closed_by: str | None = None
    pull_request: bool = False
    comments: int = 0
    locked: bool = False


@dataclass
class Repo:
    id: int
    owner: str
    name: str
    private: bool = True
    has_issues: bool = True
    archived: bool = False
    description: str | None = None
    created_at: str = "2021-01-01T00:00:00Z"
    collaborators: dict[str, str] = field(default_factory=dict)  # login -> role
    issues: dict[int, Issue] = field(default_factory=dict)
    labels: dict[str, Label] = field(default_factory=dict)  # lower-case name -> label
    milestones: dict[int, Milestone] = field(default_factory=dict)
    next_number: int = 1

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    def label(self, name: str) -> Label | None:
        return self.labels.get(name.strip().lower())


@dataclass
class World:
    """Everything the sandbox knows, with id counters shared by all objects."""

    users: dict[str, User] = field(default_factory=dict)  # lower-case login -> user
    tokens: dict[str, Token] = field(default_factory=dict)  # token value -> token
    repos: dict[str, Repo] = field(default_factory=dict)  # lower-case full name -> repo
    next_id: int = 1000
    search_scan_limit: int | None = None  # tests: searches stop after this many issues (incomplete_results)

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    def user(self, login: str) -> User | None:
        return self.users.get(login.lower())

    def repo(self, owner: str, name: str) -> Repo | None:
        return self.repos.get(f"{owner}/{name}".lower())

    # --- access ---------------------------------------------------------------------------
    def role(self, repo: Repo, token: Token | None) -> str | None:
        """The caller's role on ``repo`` (None: cannot see it)."""
        granted = None
        if token is not None and self._token_reaches(repo, token):
            granted = repo.collaborators.get(token.login.lower())
            if granted is None and token.login.lower() == repo.owner.lower():
                granted = "admin"
        if granted is None and not repo.private:
            granted = "read"
        return granted

    def _token_reaches(self, repo: Repo, token: Token) -> bool:
        if token.fine_grained:
            return token.repos is None or repo.full_name.lower() in token.repos
        scopes = token.scopes or ()
        return "repo" in scopes or (not repo.private and "public_repo" in scopes)

    def can_write_issues(self, repo: Repo, token: Token | None) -> bool:
        """Whether the token itself allows creating and editing issues (not the user's role)."""
        if token is None or self.role(repo, token) is None:
            return False
        if token.fine_grained:
            return token.issues_write and self._token_reaches(repo, token)
        return self._token_reaches(repo, token)


def at_least(role: str | None, wanted: str) -> bool:
    return role is not None and ROLES.index(role) >= ROLES.index(wanted)


def permissions(role: str | None) -> dict[str, bool]:
    """The ``permissions`` object of a repository for a role."""
    return {
        "admin": at_least(role, "admin"),
        "maintain": at_least(role, "maintain"),
        "push": at_least(role, "write"),
        "triage": at_least(role, "triage"),
        "pull": at_least(role, "read"),
    }
