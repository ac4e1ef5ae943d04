"""Seeded demo data for the Rally sandbox: a subscription, workspaces, projects, users, releases, tags,
stories, defects and tasks.

Everything is drawn from ``random.Random(seed)``, so the same seed gives the same ObjectIDs,
FormattedIDs, API keys and items. ``items`` sets how many stories the main project gets (defects
and tasks scale with it); tests use a few dozen, the demo a few hundred.

The five SD Elements stories (:data:`SDE_TASKS`, tagged ``SD-Elements``) deliberately carry task ids
of the demo project (T2, T21, T35 are among its T1…T40): the demo's first Rally sync finds them
already there instead of creating them. Stories cover every ScheduleState, tasks every State; the
admin also has a read-only API key (``SeedInfo.admin_read_only_key``).
"""

from __future__ import annotations

import string
from dataclasses import dataclass

from almdesk.sandbox.rally.schema import DEFECT_STATES, SCHEDULE_STATES, SEVERITIES, TASK_STATES
from almdesk.sandbox.rally.store import Store, install_type_definitions

SUBSCRIPTION = "Acme Corporation"
WORKSPACE = "Acme Delivery"
PROJECT = "Online Store"
PARENT_STORY_NAME = "Harden the checkout against the OWASP Top 10"
PASSWORD = "Sandbox-Rally-1"  # basic-auth password of every sandbox user (the sandbox is loopback only)
RELEASES = (("2024 Q1", "Accepted", 0, 90), ("2024 Q2", "Active", 91, 181), ("2024 Q3", "Planning", 182, 273))
TAGS = ("SD-Elements", "security", "performance", "ux")
SDE_TASKS = (
    "T21: Validate certificate chains on outbound connections",
    "T35: Use parameterized queries for all database access",
    "T52: Protect session cookies with Secure and HttpOnly",
    "T68: Enforce a strong password policy",
    "T2: Keep third-party components up to date",
)
VERBS = ("Add", "Refine", "Fix", "Speed up", "Redesign", "Audit", "Document", "Localize", "Simplify", "Test")
THINGS = ("the cart page", "guest checkout", "order history", "the search box", "gift cards", "shipping rates",
          "the product gallery", "coupon codes", "the wishlist", "payment retries", "address validation",
          "tax calculation", "the returns flow", "inventory sync", "email receipts", "the admin dashboard")


@dataclass(frozen=True)
class SeededUser:
    username: str
    display: str
    api_key: str


@dataclass
class SeedInfo:
    """What describe() and tests need to know about the seeded data."""

    admin: SeededUser
    viewer: SeededUser
    disabled: SeededUser
    admin_read_only_key: str = ""  # a read-only API key of the admin (reads work, writes are refused)
    workspace: str = WORKSPACE
    project: str = PROJECT
    parent_story: str = "US1"
    viewer_only_project: str = "Finance Reports"
    closed_workspace: str = "Legacy 2019"


def _api_key(store: Store) -> str:
    alphabet = string.ascii_letters + string.digits
    return "_" + "".join(store.rng.choice(alphabet) for _ in range(43))


def populate(store: Store, items: int = 300) -> SeedInfo:
    rng = store.rng
    sub = store.insert("Subscription", {"Name": SUBSCRIPTION, "SubscriptionID": 100 + rng.randint(0, 899)},
                       created=store.past(-400))
    workspaces = {}
    for name, state in ((WORKSPACE, "Open"), ("Acme Research", "Open"), ("Legacy 2019", "Closed")):
        ws = store.insert("Workspace", {"Name": name, "State": state, "Subscription": sub["ObjectID"],
                                        "Description": f"{name} workspace"}, created=store.past(-380))
        workspaces[name] = ws["ObjectID"]
        install_type_definitions(store, ws["ObjectID"])
    delivery = workspaces[WORKSPACE]
    projects: dict[str, int] = {}
    for name, parent, state, ws_name in (
            (PROJECT, None, "Open", WORKSPACE), ("Checkout Team", PROJECT, "Open", WORKSPACE),
            ("Mobile App", None, "Open", WORKSPACE), ("Platform Services", None, "Open", WORKSPACE),
            ("Finance Reports", None, "Open", WORKSPACE), ("Old Portal", None, "Closed", WORKSPACE),
            ("Prototypes", None, "Open", "Acme Research"), ("Archive", None, "Open", "Legacy 2019")):
        proj = store.insert("Project", {"Name": name, "State": state, "Workspace": workspaces[ws_name],
                                        "Parent": projects.get(parent) if parent else None,
                                        "Description": f"The {name} team"}, created=store.past(-370))
        projects[name] = proj["ObjectID"]

    def user(username: str, display: str, *, disabled: bool = False,
             admin: bool = False) -> tuple[int, SeededUser]:
        profile = store.insert("UserProfile", {"DefaultWorkspace": delivery, "DefaultProject": projects[PROJECT],
                                               "TimeZone": "America/Denver"}, created=store.past(-360))
        first, last = display.split(" ", 1)
        obj = store.insert("User", {"UserName": username, "DisplayName": display, "EmailAddress": username,
                                    "FirstName": first, "LastName": last, "Disabled": disabled,
                                    "SubscriptionAdmin": admin, "Role": "Developer",
                                    "UserProfile": profile["ObjectID"]}, created=store.past(-360))
        key = _api_key(store)
        store.api_keys[key] = obj["ObjectID"]
        store.passwords[username] = PASSWORD
        return obj["ObjectID"], SeededUser(username, display, key)

    admin_oid, admin = user("sam.sandbox@acme.example", "Sam Sandbox")
    viewer_oid, viewer = user("vic.viewer@acme.example", "Vic Viewer")
    _, disabled = user("dora.departed@acme.example", "Dora Departed", disabled=True)
    user("root.admin@acme.example", "Rita Root", admin=True)
    for name, oid in projects.items():
        role = "Viewer" if name == "Finance Reports" else "Editor"
        store.insert("ProjectPermission", {"User": admin_oid, "Project": oid, "Role": role,
                                           "Workspace": store.objects[oid]["Workspace"],
                                           "Name": f"{name} {role}"}, created=store.past(-350))
    for name in (PROJECT, "Finance Reports"):
        store.insert("ProjectPermission", {"User": viewer_oid, "Project": projects[name], "Role": "Viewer",
                                           "Workspace": delivery, "Name": f"{name} Viewer"},
                     created=store.past(-350))

    # A second "Checkout Team" (under Mobile App): project names need not be unique, paths are.
    twin = store.insert("Project", {"Name": "Checkout Team", "State": "Open", "Workspace": delivery,
                                    "Parent": projects["Mobile App"], "Description": "Mobile checkout"},
                        created=store.past(-340))
    store.insert("ProjectPermission", {"User": admin_oid, "Project": twin["ObjectID"], "Role": "Editor",
                                       "Workspace": delivery, "Name": "Checkout Team Editor"}, created=store.past(-340))

    tags = {name: store.insert("Tag", {"Name": name, "Workspace": delivery}, created=store.past(-300))["ObjectID"]
            for name in TAGS}
    releases: dict[tuple[str, str], int] = {}
    for pname in (PROJECT, "Checkout Team", "Mobile App", "Platform Services"):
        for rname, state, start, end in RELEASES:
            release = store.insert("Release", {"Name": rname, "State": state, "Project": projects[pname],
                                           "Workspace": delivery, "ReleaseStartDate": store.past(start - 7),
                                           "ReleaseDate": store.past(end - 7)}, created=store.past(-200))
            releases[(pname, rname)] = release["ObjectID"]

    def artifact(kind: str, name: str, project: str, day: float, **fields: object) -> int:
        values: dict[str, object] = {"Name": name, "Project": projects[project], "Owner": admin_oid,
                                     "Workspace": store.objects[projects[project]]["Workspace"], **fields}
        obj = store.insert(kind, values, created=store.past(day))
        obj["LastUpdateDate"] = store.past(day + rng.uniform(0, 40))
        obj["Tags"] = list(obj.get("Tags") or [])
        return int(obj["ObjectID"])

    parent_oid = artifact("HierarchicalRequirement", PARENT_STORY_NAME, PROJECT, 1,
                          ScheduleState="In-Progress", Description="<p>Security work from SD Elements.</p>",
                          Tags=[tags["SD-Elements"], tags["security"]], Release=releases[(PROJECT, "2024 Q2")])
    for i, title in enumerate(SDE_TASKS):
        artifact("HierarchicalRequirement", title, PROJECT, 2 + i, ScheduleState=SCHEDULE_STATES[i % 4],
                 Tags=[tags["SD-Elements"]], Description=f"<p>Imported from SD Elements ({title[:3]}).</p>")
        artifact("Task", title, PROJECT, 2 + i, WorkProduct=parent_oid, State=TASK_STATES[i % 3])
    stories = [parent_oid]
    for i in range(items):
        name = f"{rng.choice(VERBS)} {rng.choice(THINGS)}"
        if i % 7 == 0:
            name += f" (#{i})"
        rel: str | None = rng.choice((None, "2024 Q1", "2024 Q2", "2024 Q3"))
        stories.append(artifact(
            "HierarchicalRequirement", name, PROJECT, rng.uniform(0, 250), ScheduleState=rng.choice(SCHEDULE_STATES),
            PlanEstimate=float(rng.choice((1, 2, 3, 5, 8))), Release=releases[(PROJECT, rel)] if rel else None,
            Tags=[tags[t] for t in TAGS[1:] if rng.random() < 0.15]))
    for i in range(max(4, items // 2)):
        state = rng.choice(DEFECT_STATES)
        drel = rng.choice(("2024 Q1", "2024 Q2", "2024 Q2", "2024 Q3"))
        artifact("Defect", f"{rng.choice(THINGS).capitalize()} {rng.choice(('crashes', 'shows wrong totals', 'is slow', 'loses input', 'misaligns on mobile'))}",
                 PROJECT, rng.uniform(0, 250), State=state, Severity=rng.choice(SEVERITIES[1:]),
                 Priority=rng.choice(("Resolve Immediately", "High Attention", "Normal", "Low")),
                 ScheduleState="Accepted" if state == "Closed" else rng.choice(SCHEDULE_STATES[:3]),
                 Release=releases[(PROJECT, drel)], Requirement=rng.choice(stories) if i % 3 == 0 else None,
                 Environment=rng.choice(("Development", "Test", "Production")))
    for i in range(max(3, items // 3)):
        artifact("Task", f"{rng.choice(VERBS)} step {i + 1}", PROJECT, rng.uniform(0, 250),
                 WorkProduct=rng.choice(stories[1:] or stories), State=rng.choice(TASK_STATES),
                 Estimate=float(rng.choice((1, 2, 4, 8))))
    for pname in ("Checkout Team", "Mobile App", "Platform Services", "Finance Reports"):
        for _ in range(max(2, items // 20)):
            artifact("HierarchicalRequirement", f"{rng.choice(VERBS)} {rng.choice(THINGS)}", pname,
                     rng.uniform(0, 250), ScheduleState=rng.choice(SCHEDULE_STATES))
        artifact("Defect", f"{pname}: {rng.choice(THINGS)} fails", pname, rng.uniform(0, 250),
                 Severity=rng.choice(SEVERITIES[1:]), State=rng.choice(DEFECT_STATES),
                 Release=releases.get((pname, "2024 Q2")))
    read_only = _api_key(store)  # drawn last, so the rest of the data does not change with it
    store.api_keys[read_only] = admin_oid
    store.read_only_keys.add(read_only)
    return SeedInfo(admin=admin, viewer=viewer, disabled=disabled, admin_read_only_key=read_only,
                    parent_story=str(store.objects[parent_oid]["FormattedID"]))
