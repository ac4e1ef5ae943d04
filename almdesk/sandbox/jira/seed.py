"""Seeded demo content of the Jira sandbox: users, workflows, fields, three projects and their issues.

``DEMO`` is the project a working connection points at (Bug/Task/Story/Sub-task/Epic, classic Bug
workflow, versions); its SD Elements issues are ``T501: …`` onwards, clear of the demo project's tasks
(T1…T40), and its Bugs are in every status of the classic workflow (Open, In Progress, Reopened,
Resolved, Closed), its Tasks and Stories in To Do, In Progress and Done. ``SEC`` has a Bug create screen with a required custom field and an ``Incident``
type without Labels; ``OPS`` has only Task and Sub-task. The same seed gives the same data.
"""

from __future__ import annotations

import base64
import hashlib
import random
import string
from datetime import UTC, datetime, timedelta

from almdesk.sandbox.jira.model import (
    FieldDef,
    IssueType,
    JiraData,
    Project,
    ScreenField,
    Status,
    Transition,
    User,
    Workflow,
)

EPOCH = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
SDE_LABEL = "SD-Elements"
TASK_BASE = 500  # DEMO's task issues are T501…: the demo project's tasks (T1…T40) do not collide with them

TASK_TITLES = (
    "Validate certificates of outbound TLS connections", "Use parameterized queries", "Protect forms against CSRF",
    "Hash passwords with a slow adaptive algorithm", "Set the Secure and HttpOnly flags on session cookies",
    "Log authentication events", "Limit repeated failed login attempts", "Encode output for the HTML context",
    "Store secrets outside the source tree", "Check authorization on every request",
    "Validate uploaded file types", "Expire idle sessions", "Rotate encryption keys",
    "Disable verbose error pages in production", "Pin dependency versions", "Review third-party licences",
    "Define a content security policy", "Sanitise data written to logs", "Use TLS 1.2 or later",
    "Protect against XML external entities",
)
BUG_TITLES = (
    "Login page returns 500 on an empty password", "Export to CSV drops the last row",
    "Search ignores accented characters", "Dashboard widgets overlap on narrow screens",
    "Timezone shown as UTC for every user", "Password reset link expires too early",
    "Report totals are off by one", "Duplicate notification e-mails", "Avatar upload fails for PNG files",
    "Sorting by priority is reversed",
)
OTHER_LABELS = ("backend", "frontend", "security", "performance", "ux")


def secret(seed: int, what: str, length: int) -> str:
    digest = hashlib.sha256(f"almdesk-jira-{seed}-{what}".encode()).digest()
    rng = random.Random(digest)
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(length))


def cloud_token(seed: int, who: str) -> str:
    """An Atlassian API token lookalike (they start with ATATT)."""
    return f"ATATT3xFfGF0{secret(seed, who, 60)}={secret(seed, who + '-c', 8).upper()}"


def dc_pat(seed: int, who: str) -> str:
    """A Data Center personal access token lookalike (44 base64 characters)."""
    raw = hashlib.sha256(f"pat-{seed}-{who}".encode()).digest()[:33]
    return base64.b64encode(raw).decode()


def _statuses(data: JiraData) -> None:
    for s in (Status("1", "Open", "new"), Status("3", "In Progress", "indeterminate"),
              Status("4", "Reopened", "new"), Status("5", "Resolved", "done"), Status("6", "Closed", "done"),
              Status("10000", "To Do", "new"), Status("10001", "Done", "done")):
        data.statuses[s.id] = s


def classic_workflow() -> Workflow:
    return Workflow("classic default workflow", "1", [
        Transition("4", "Start Progress", "3", ("1", "4")),
        Transition("301", "Stop Progress", "1", ("3",)),
        Transition("5", "Resolve Issue", "5", ("1", "3", "4"), required=("resolution",)),
        Transition("2", "Close Issue", "6", ("1", "3", "4", "5"), resolution="Done"),
        Transition("3", "Reopen Issue", "4", ("5", "6"), resolution=None),
    ])


def simplified_workflow() -> Workflow:
    return Workflow("Software Simplified Workflow", "10000", [
        Transition("11", "To Do", "10000", resolution=None),
        Transition("21", "In Progress", "3", resolution=None),
        Transition("31", "Done", "10001", resolution="Done"),
    ])


def _fields(data: JiraData) -> None:
    def system(fid: str, name: str, schema: dict[str, object], *clauses: str, orderable: bool = True) -> None:
        data.fields[fid] = FieldDef(fid, name, {**schema, "system": fid}, False, clauses or (fid,),
                                    orderable=orderable)

    system("summary", "Summary", {"type": "string"})
    system("description", "Description", {"type": "string"})
    system("issuetype", "Issue Type", {"type": "issuetype"}, "issuetype", "type")
    system("project", "Project", {"type": "project"})
    system("labels", "Labels", {"type": "array", "items": "string"})
    system("priority", "Priority", {"type": "priority"})
    system("status", "Status", {"type": "status"}, orderable=False)
    system("fixVersions", "Fix versions", {"type": "array", "items": "version"}, "fixVersion")
    system("parent", "Parent", {"type": "issuelink"})
    system("resolution", "Resolution", {"type": "resolution"})
    system("resolutiondate", "Resolved", {"type": "datetime"}, "resolved", "resolutiondate", orderable=False)
    system("created", "Created", {"type": "datetime"}, "created", "createdDate", orderable=False)
    system("updated", "Updated", {"type": "datetime"}, "updated", "updatedDate", orderable=False)
    system("reporter", "Reporter", {"type": "user"})
    system("subtasks", "Sub-tasks", {"type": "array", "items": "issuelinks"}, "subtasks", orderable=False)
    system("issuekey", "Key", {"type": "string"}, "id", "issue", "issuekey", "key", orderable=False)
    data.fields["customfield_10050"] = FieldDef(
        "customfield_10050", "Security Severity",
        {"type": "option", "custom": "com.atlassian.jira.plugin.system.customfieldtypes:select", "customId": 10050},
        True, ("cf[10050]", "Security Severity"), allowed=("Low", "Medium", "High", "Critical"))
    data.fields["customfield_10020"] = FieldDef(
        "customfield_10020", "Team",
        {"type": "string", "custom": "com.atlassian.jira.plugin.system.customfieldtypes:textfield",
         "customId": 10020}, True, ("cf[10020]", "Team"))


def _screen(*extra: str, labels: bool = True, required: tuple[str, ...] = ()) -> dict[str, ScreenField]:
    screen = {"project": ScreenField(True), "issuetype": ScreenField(True), "summary": ScreenField(True),
              "description": ScreenField(), "priority": ScreenField(default="default"),
              "reporter": ScreenField(True, "current-user")}
    if labels:
        screen["labels"] = ScreenField()
    for fid in extra:
        screen[fid] = ScreenField(fid in required)
    return screen


def build(seed: int, mode: str, issues: int) -> JiraData:
    data = JiraData(mode)
    cloud = mode == "cloud"
    _statuses(data)
    _fields(data)
    ids = ({"Epic": "10000", "Task": "10001", "Story": "10002", "Sub-task": "10003", "Bug": "10004",
            "Incident": "10005"} if cloud else
           {"Bug": "1", "Task": "3", "Sub-task": "5", "Epic": "10000", "Story": "10001", "Incident": "10100"})
    for name, tid in ids.items():
        data.issue_types[tid] = IssueType(tid, name, subtask=name == "Sub-task",
                                          description=f"A {name.lower()} in the sandbox.",
                                          level={"Epic": 1, "Sub-task": -1}.get(name, 0))
    if cloud:
        data.priorities = [("1", "Highest"), ("2", "High"), ("3", "Medium"), ("4", "Low"), ("5", "Lowest")]
        data.default_priority = "3"
    else:
        data.priorities = [("1", "Blocker"), ("2", "Critical"), ("3", "Major"), ("4", "Minor"), ("5", "Trivial")]
        data.default_priority = "3"
    data.resolutions = [("10000", "Done"), ("10001", "Won't Do"), ("10002", "Duplicate"), ("1", "Fixed")]

    admin_key = "5f1a2b3c4d5e6f0011aa2201" if cloud else "JIRAUSER10000"
    viewer_key = "5f1a2b3c4d5e6f0011aa2202" if cloud else "JIRAUSER10001"
    data.users[admin_key] = User(admin_key, "admin", "admin@example.com", "Sandbox Admin",
                                 password="admin-" + secret(seed, "admin-pw", 10),
                                 api_token=cloud_token(seed, "admin") if cloud else "",
                                 pat="" if cloud else dc_pat(seed, "admin"))
    data.users[viewer_key] = User(viewer_key, "viewer", "viewer@example.com", "Read-only Viewer",
                                  password="viewer-" + secret(seed, "viewer-pw", 10),
                                  api_token=cloud_token(seed, "viewer") if cloud else "",
                                  pat="" if cloud else dc_pat(seed, "viewer"),
                                  permissions=frozenset({"BROWSE_PROJECTS"}))

    def project(pid: str, key: str, name: str, types: list[str], screens: dict[str, dict[str, ScreenField]]
                ) -> Project:
        tids = [ids[t] for t in types]
        workflows = {ids[t]: (classic_workflow() if t == "Bug" else simplified_workflow()) for t in types}
        p = Project(pid, key, name, admin_key, tids, workflows, {ids[t]: screens[t] for t in types},
                    description=f"{name} (sandbox).")
        data.projects[pid] = p
        return p

    std = _screen("fixVersions")
    demo = project("10000", "DEMO", "Demo Project", ["Bug", "Task", "Story", "Sub-task", "Epic"],
                   {"Bug": std, "Task": std, "Story": std, "Epic": std,
                    "Sub-task": _screen("parent", required=("parent",))})
    sec = project("10001", "SEC", "Security Backlog", ["Bug", "Task", "Incident", "Sub-task"],
                  {"Bug": _screen("fixVersions", "customfield_10050", "customfield_10020",
                                  required=("customfield_10050",)),
                   "Task": std, "Incident": _screen(labels=False),
                   "Sub-task": _screen("parent", required=("parent",))})
    ops = project("10002", "OPS", "Operations", ["Task", "Sub-task"],
                  {"Task": _screen(), "Sub-task": _screen("parent", required=("parent",))})
    for name, released in (("1.0", True), ("1.1", False), ("2.0", False)):
        data.add_version(demo, name, released)
    data.add_version(sec, "2025.1")

    _issues(data, random.Random(seed), demo, sec, ops, admin_key, issues)
    return data


def _issues(data: JiraData, rng: random.Random, demo: Project, sec: Project, ops: Project, reporter: str,
            count: int) -> None:
    types = {t.name: t for t in data.issue_types.values()}
    bug_done, task_done = ("5", "6"), ("10001",)
    for n in range(count):
        created = EPOCH - timedelta(days=rng.randint(1, 200), minutes=rng.randint(0, 1440))
        updated = created + timedelta(hours=rng.randint(0, 600))
        sde = n % 3 != 2
        if sde:
            kind = types["Bug"]
            summary = f"T{TASK_BASE + n + 1}: {TASK_TITLES[n % len(TASK_TITLES)]}"
            labels = [SDE_LABEL] + ([rng.choice(OTHER_LABELS)] if rng.random() < 0.3 else [])
        else:
            kind = (types["Task"], types["Story"], types["Bug"])[(n // 3) % 3]
            summary = BUG_TITLES[n % len(BUG_TITLES)]
            labels = rng.sample(OTHER_LABELS, rng.randint(0, 2))
        versions = [v.id for v in demo.versions if rng.random() < 0.3][:1]
        issue = data.add_issue(demo, kind, summary, reporter, when=created, labels=labels, fix_versions=versions,
                               priority=rng.choice(data.priorities)[0],
                               description=f"{summary}.\n\nCreated by the almdesk sandbox.")
        issue.updated = updated
        roll = rng.random()
        if roll < 0.35:
            issue.status = rng.choice(bug_done if kind.name == "Bug" else task_done)
            issue.resolution, issue.resolved = "10000", updated
        elif roll < 0.55:
            issue.status = "3"
        elif roll < 0.62 and kind.name == "Bug":
            issue.status = "4"  # Reopened: the demo shows every status of the classic workflow
    if count:
        story = data.add_issue(demo, types["Story"], "Checkout redesign", reporter, when=EPOCH - timedelta(days=30),
                               labels=["ux"])
        for title in ("Update payment form", "Update order summary"):
            data.add_issue(demo, types["Sub-task"], title, reporter, when=EPOCH - timedelta(days=29),
                           parent=story.id)
    severities = data.fields["customfield_10050"].allowed
    for n in range(min(count, 5)):
        data.add_issue(sec, types["Bug"], f"Finding {n + 1}: {TASK_TITLES[(n * 7) % len(TASK_TITLES)]}",
                               reporter, when=EPOCH - timedelta(days=10 - n), labels=[SDE_LABEL, "security"],
                               custom={"customfield_10050": severities[n % len(severities)]})
    for n in range(min(count, 3)):
        data.add_issue(ops, types["Task"], f"Rotate on-call schedule {n + 1}", reporter,
                       when=EPOCH - timedelta(days=5 - n))
