"""Seeded data of the SD Elements sandbox: users and tokens, business units → applications →
projects, task statuses (with a custom NA one), phases, the demo project's tasks, and the seed's
example ALM connectors and connection (``seeds/002_…``).

Everything lives in plain dicts in one :class:`Store`; the app renders them per request. Ids follow
the real server: projects and applications are ints, tasks ``"<project>-T<n>"``, statuses ``TS<n>``.
"""

from __future__ import annotations

import copy
import random
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

STATUSES: tuple[dict[str, Any], ...] = (
    {"id": "TS1", "meaning": "DONE", "name": "Complete", "slug": "complete"},
    {"id": "TS2", "meaning": "TODO", "name": "Incomplete", "slug": "incomplete"},
    {"id": "TS3", "meaning": "NA", "name": "Not Applicable", "slug": "not-applicable"},
    # a custom status, as sdetools' test data has it: only its meaning says what it is
    {"id": "TS4", "meaning": "NA", "name": "Accept Risk", "slug": "accept-risk"},
)
PHASES: tuple[dict[str, Any], ...] = (
    {"id": 1, "name": "Requirements", "slug": "requirements", "description": "What the system must do.",
     "tip": "Write these down before designing."},
    {"id": 2, "name": "Architecture and Design", "slug": "architecture-design",
     "description": "How the system is built.", "tip": "Review with the security team."},
    {"id": 3, "name": "Development", "slug": "development", "description": "Writing the code.",
     "tip": "Pair on the hard parts."},
    {"id": 4, "name": "Testing", "slug": "testing", "description": "Verifying the code.", "tip": "Automate it."},
    {"id": 5, "name": "Deployment", "slug": "deployment", "description": "Running it.", "tip": "Harden the hosts."},
)
# project roles as the API docs list them (project-roles): PR4 may sync with the ALM, PR5 may not
ROLE_PERMISSIONS = {
    "PR4": ["edit_project_details", "assign_task", "mark_task", "create_project_specific_task", "archive_project",
            "verify_task", "edit_project_membership", "view_project", "write_task_note", "sync_with_alm",
            "edit_project_survey"],
    "PR5": ["verify_task", "mark_task", "view_project", "write_task_note"],
    "PR6": ["view_project"],
}
HOSTILE_TITLES = (
    'Validate "input" & <script>alert(1)</script>',
    "Ünïcødé — 日本語のタイトル ✓ 🚀",
    "T2: looks like another task's id",
    "100% of ${title} and $task_id stay literal",
    "Back\\slash, 'single' and `back` quotes; DROP TABLE tasks;--",
    "A very long title " + "that goes on " * 22 + "and ends",
    "   leading and trailing spaces   ",
    "JQL ~ \"quoted\" AND summary ~ 'x' OR (y)",
)
SUBJECTS = ("Validate all input on the server", "Encrypt data in transit", "Log security events",
            "Use parameterized queries", "Protect against CSRF", "Hash passwords with a slow hash",
            "Set secure cookie flags", "Limit login attempts", "Review third-party components",
            "Harden the TLS configuration", "Check authorization on every request", "Rotate secrets")
TAGS = ("owasp", "pci", "gdpr", "auth", "crypto", "web")
EPOCH = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def iso(moment: datetime) -> str:
    """DRF's default datetime rendering: ISO 8601 with microseconds and ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class User:
    id: int
    email: str
    first_name: str
    last_name: str
    token: str
    role: str  # project role on every seeded project
    is_admin: bool = False

    def render(self) -> dict[str, Any]:
        return {"id": self.id, "email": self.email, "first_name": self.first_name, "last_name": self.last_name,
                "is_active": True, "role": {"id": "UR1" if self.is_admin else "UR2",
                                            "name": "Admin" if self.is_admin else "User"}}


@dataclass
class Store:
    """The sandbox's data; every mutation happens under the app's lock."""

    users: list[User] = field(default_factory=list)
    business_units: dict[int, dict[str, Any]] = field(default_factory=dict)
    applications: dict[int, dict[str, Any]] = field(default_factory=dict)
    projects: dict[int, dict[str, Any]] = field(default_factory=dict)
    tasks: dict[int, dict[str, dict[str, Any]]] = field(default_factory=dict)  # project → task id → task
    notes: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # task id → notes
    references: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # task id → references
    connectors: dict[int, dict[str, Any]] = field(default_factory=dict)
    connections: dict[int, dict[str, Any]] = field(default_factory=dict)
    jobs: dict[int, dict[str, Any]] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    demo_project: int = 0

    def next_id(self, kind: str, start: int = 1) -> int:
        value = self.counters.get(kind, start - 1) + 1
        self.counters[kind] = value
        return value

    def user_by_token(self, token: str) -> User | None:
        return next((u for u in self.users if secrets.compare_digest(u.token, token)), None)

    def status(self, status_id: str) -> dict[str, Any] | None:
        return next((s for s in STATUSES if s["id"] == status_id), None)

    def task(self, project: int, task_id: str) -> dict[str, Any] | None:
        return self.tasks.get(project, {}).get(task_id)


SYSTEMS = {
    "github": {"id": "github", "short_name": "GitHub", "name": "GitHub"},
    "jira": {"id": "jira", "short_name": "JIRA", "name": "JIRA"},
    "rally": {"id": "rally", "short_name": "CA Agile Central", "name": "CA Agile Central (formerly Rally)"},
    "octane": {"id": "octane", "short_name": "ALM Octane", "name": "Micro Focus ALM Octane"},
}
COMMON_PARAMS = {"sde_verification_filter": "none,partial,pass,fail", "title_format": "$task_id $title",
                 "alm_method": "https", "alm_phases": "requirements,architecture-design,development",
                 "sde_statuses_in_scope": "TODO", "conflict_policy": "alm", "sde_min_priority": "7"}


def populate(store: Store, *, tasks: int = 72, seed: int = 0) -> None:
    """Fill ``store`` with the demo data (deterministic for a given ``seed``)."""
    rng = random.Random(seed)
    store.users = [
        User(1, "admin@example.com", "Admin", "Testerton", "sde-admin-token-" + _hex(rng), "PR4", True),
        User(2, "dev@example.com", "Dana", "Developer", "sde-normal-token-" + _hex(rng), "PR5"),
        User(3, "viewer@example.com", "Vic", "Viewer", "sde-viewer-token-" + _hex(rng), "PR6"),
    ]
    layout = {"General": {"Demo Application": ["Demo Project", "Mobile Client"],
                          "Finance App": ["Project 1", "Ledger"]},
              "Retail": {"Web Shop": ["Checkout", "Catalogue", "Search"]},
              "Platform & Ops": {"Identity": ["SSO Gateway"]}}
    for bu_name, apps in layout.items():
        bu_id = store.next_id("bu")
        store.business_units[bu_id] = {"id": bu_id, "name": bu_name, "slug": _slug(bu_name),
                                       "default_users": [], "default_groups": []}
        for app_name, projects in apps.items():
            app_id = store.next_id("app")
            store.applications[app_id] = {"id": app_id, "business_unit": bu_id, "name": app_name,
                                          "slug": _slug(app_name), "archived": False,
                                          "created": iso(EPOCH), "updated": iso(EPOCH)}
            for name in projects:
                pid = store.next_id("project")
                store.projects[pid] = {
                    "id": pid, "slug": _slug(name), "application": app_id, "archived": False, "name": name,
                    "description": f"{name} of {app_name}", "tags": [], "application_tags": [],
                    "custom_attributes": {}, "locked": False, "risk_policy": 1, "risk_policy_compliant": None,
                    "created": iso(EPOCH), "updated": iso(EPOCH), "survey_complete": True}
                store.tasks[pid] = {}
    store.demo_project = 1
    make_tasks(store, store.demo_project, tasks, rng)
    make_tasks(store, 2, 6, rng)
    _seed_alm(store)


def make_tasks(store: Store, project: int, count: int, rng: random.Random) -> None:
    """``count`` tasks T1…Tn in ``project``: every phase, priorities 1–10, every status, some unaccepted."""
    out = store.tasks.setdefault(project, {})
    for n in range(1, count + 1):
        if n % 9 == 0 and (n // 9) <= len(HOSTILE_TITLES):
            title = HOSTILE_TITLES[n // 9 - 1]
        else:
            title = f"{SUBJECTS[n % len(SUBJECTS)]} ({n})"
        status = ("TS2", "TS2", "TS1", "TS2", "TS3", "TS2", "TS4")[n % 7]
        phase = PHASES[n % len(PHASES)]
        tid = f"{project}-T{n}"
        tags = sorted({TAGS[n % len(TAGS)], TAGS[(n * 7) % len(TAGS)]}) if n % 4 else []
        out[tid] = {
            "id": tid, "task_id": f"T{n}", "project": project, "title": title,
            "text": f"Task T{n}: {title}.\n\n**How**: follow the how-to.\n\n* point one\n* point two",
            "priority": (n * 3) % 10 + 1, "phase": phase["slug"], "status": status,
            "verification_status": (None, None, "pass", "partial", "fail")[n % 5],
            "updated": EPOCH + timedelta(minutes=n, seconds=rng.randint(0, 59)),
            "assigned_to": [], "accepted": n % 13 != 0, "relevant": True, "artifact_proxy": None,
            "tags": tags, "how_tos": [{"id": f"HT{n}", "title": f"How to do T{n}", "text": "Follow the steps."}],
        }


def _seed_alm(store: Store) -> None:
    """The seed's two example connectors and its example connection (ids as the seed shows them)."""
    github = {"id": 1, "name": "GitHub Example Connector", "system": dict(SYSTEMS["github"]), "inaccessible": False,
              "params": {"github_repo_owner": "repo owner", "sde_verification_filter": "none,partial,pass,fail",
                         "alm_api_token": "token", "title_format": "$task_id $title", "alm_method": "https",
                         "alm_server": "api.github.com", "github_duplicate_label": "duplicate",
                         "alm_phases": "requirements,architecture-design,development",
                         "sde_statuses_in_scope": "TODO", "conflict_policy": "alm", "sde_min_priority": "7"}}
    jira = {"id": 2, "name": "JIRA Example Connector", "system": dict(SYSTEMS["jira"]), "inaccessible": False,
            "params": {"sde_verification_filter": "none,partial,pass,fail", "jira_version": "5",
                       "title_format": "$task_id $title", "alm_method": "https",
                       "alm_server": "my-company.atlassian.net", "alm_user": "user", "alm_pass": "pass",
                       "alm_phases": "requirements,architecture-design,development",
                       "sde_statuses_in_scope": "TODO", "conflict_policy": "alm", "sde_min_priority": "7"}}
    store.connectors = {1: github, 2: jira}
    store.counters["connector"] = 2
    store.connections[1] = {
        "id": 1, "alias": "Rally Integration", "system": dict(SYSTEMS["rally"]), "frequency": "manually",
        "command": "sync_rally", "debug_mode": False,
        "own_params": {"sde_project": "Demo Project", "alm_user": "rally_user",
                       "sde_verification_filter": "none,partial,pass,fail", "rally_workspace": "Rally Workspace",
                       "alm_method": "https", "alm_validate_cert": True, "alm_title_format": "$task_id $title",
                       "alm_server": "rally1.rallydev.com", "sde_businessunit": "General",
                       "sde_application": "Demo Application", "alm_project": "Rally Project",
                       "alm_pass": "rally_password", "alm_phases": "requirements,architecture-design,development",
                       "sde_statuses_in_scope": "TODO", "conflict_policy": "alm", "sde_min_priority": 7},
        "alm_reference_context": 14, "inaccessible": False, "in_progress": False, "connector": 2, "project": 1}
    store.counters["connection"] = 4  # the seed's create example answers id 5
    store.jobs[4] = {"id": 4, "connection": 1, "succeeded": False, "last_run": "2016-12-15T22:45:27.412Z",
                     "result_message": "Error Message", "user": 1, "ready": True, "automatic": False,
                     "manual": True, "completed": True}
    store.counters["job"] = 4


T = TypeVar("T")


def clone(value: T) -> T:
    return copy.deepcopy(value)


def _slug(name: str) -> str:
    return "-".join("".join(c.lower() if c.isalnum() else " " for c in name).split())


def _hex(rng: random.Random) -> str:
    return f"{rng.getrandbits(64):016x}"
