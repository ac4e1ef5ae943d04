"""Seeded demo data of the Octane sandbox: shared spaces, workspaces, API keys, users and entities.

Entities are plain dicts keyed by field name; references are ``{"type", "id"}`` dicts. System
phases and list nodes use their logical name as id (``phase.defect.new``), as Octane does; custom
ones get random ids, and in workspace ``1003`` the built-in Rejected does too (real spaces replace
built-ins like that, so clients must resolve phases by name per workspace). Defects use Octane's
eight default phases and seeded items cover every phase; ``transition`` entities hold the default
workflows, which the phase field follows on update. Everything is derived from the seed, so two
sandboxes with one seed agree.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

SHARED_SPACE = "1001"
OTHER_SHARED_SPACE = "2001"
DEFAULT_WORKSPACE = "1002"
ROOT_ID = "1001"

# Roles and what they allow (a small model of Octane's workspace roles).
CREATE_ROLES = {"workspace_admin", "team_member", "ci_cd_integration"}
READ_ROLES = CREATE_ROLES | {"viewer"}
ROLE_LABELS = {"workspace_admin": "Workspace Admin", "team_member": "Team Member",
               "ci_cd_integration": "CI/CD Integration", "viewer": "Viewer"}


@dataclass
class Principal:
    """Someone who can sign in: an API key (client id/secret) or a user (name/password)."""

    name: str
    secret: str
    kind: str  # api_key | user
    shared_space: str
    roles: dict[str, set[str]] = field(default_factory=dict)  # workspace id -> role names

    def can_read(self, workspace: str) -> bool:
        return bool(self.roles.get(workspace, set()) & READ_ROLES)

    def can_create(self, workspace: str) -> bool:
        return bool(self.roles.get(workspace, set()) & CREATE_ROLES)


@dataclass
class Workspace:
    id: str
    name: str
    shared_space: str
    entities: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # type -> id -> entity
    next_id: int = 2001

    def new_id(self) -> str:
        value = str(self.next_id)
        self.next_id += 1
        return value

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return self.entities.setdefault(kind, {})

    def add(self, kind: str, entity: dict[str, Any]) -> dict[str, Any]:
        entity.setdefault("type", kind)
        self.of_type(kind)[str(entity["id"])] = entity
        return entity


def ref(kind: str, ident: str | None) -> dict[str, str] | None:
    return None if ident is None else {"type": kind, "id": ident}


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _random_id(rng: random.Random) -> str:
    return "".join(rng.choice(string.ascii_lowercase + string.digits) for _ in range(25))


# Octane's eight default defect phases (listed in the order their seeding weights below use)
DEFECT_PHASES = [("new", "New"), ("opened", "Opened"), ("fixed", "Fixed"), ("proposeclose", "Proposed Closed"),
                 ("closed", "Closed"), ("rejected", "Rejected"), ("duplicate", "Duplicate"), ("deferred", "Deferred")]
RANDOM_ID_WORKSPACE = "1003"  # where one built-in phase (Rejected) lives under a random id, as in real spaces
RANDOM_ID_PHASE = "rejected"
# The default workflows (this sandbox's model of Octane's; the phase field follows them on update).
DEFECT_WORKFLOW = {"new": ("opened", "deferred", "rejected", "duplicate"),
                   "opened": ("fixed", "deferred", "rejected", "duplicate"),
                   "fixed": ("proposeclose", "opened"), "proposeclose": ("closed", "opened"),
                   "closed": ("opened",), "deferred": ("new", "opened"), "rejected": ("opened", "new"),
                   "duplicate": ("opened", "new")}
STORY_WORKFLOW = {"new": ("in_progress",), "in_progress": ("in_testing", "done", "new"),
                  "in_testing": ("done", "in_progress"), "done": ("in_progress",)}
FEATURE_WORKFLOW = {"new": ("in_progress",), "in_progress": ("done", "new"), "done": ("in_progress",)}
STORY_PHASES = [("new", "New"), ("in_progress", "In Progress"), ("in_testing", "In Testing"), ("done", "Done")]
FEATURE_PHASES = [("new", "New"), ("in_progress", "In Progress"), ("done", "Done")]
SEVERITIES = [("low", "Low"), ("medium", "Medium"), ("high", "High"), ("very_high", "Very High"), ("urgent", "Urgent")]
PRIORITIES = [("low", "Low"), ("medium", "Medium"), ("high", "High"), ("urgent", "Urgent")]
USERS = [("sa@nga", "Site", "Admin"), ("alice@example.com", "Alice", "Adams"), ("bob@example.com", "Bob", "Brown"),
         ("carol@example.com", "Carol", "Chen"), ("dave@example.com", "Dave", "Diaz")]
WORKSPACES = [("1002", "default_workspace", ["almdesk", "Customer", "Internal", "Automation"]),
              ("1003", "Payments", ["XL Release", "Customer", "Internal"]),
              ("1004", "Mobile App", ["Customer", "Internal"])]
RELEASES = ["Release 24.1", "Release 24.2", "Release 24.3", "Maintenance", "Maintenance",
            "R&D (beta); 'Q3' ^x^ || \"y\""]
WORDS = ["login", "checkout", "report", "export", "sync", "search", "profile", "cart", "invoice", "upload",
         "dashboard", "filter", "timeout", "crash", "layout", "settings", "payment", "token", "cache", "email"]
PROBLEMS = ["fails on", "is slow in", "shows wrong totals in", "crashes after", "ignores", "breaks",
            "times out in", "duplicates", "loses data in", "misaligns"]


@dataclass
class SiteData:
    """Everything the sandbox serves."""

    workspaces: dict[str, Workspace]
    shared_spaces: dict[str, str]  # id -> name
    principals: dict[str, Principal]
    version: dict[str, str]

    def workspaces_of(self, shared_space: str) -> list[Workspace]:
        return [w for w in self.workspaces.values() if w.shared_space == shared_space]


API_KEY = ("almdesk_ci_7k2p9", "ci-secret-Zq81vLr4")
READONLY_KEY = ("almdesk_readonly_3m8x", "ro-secret-Hn52cWq9")
NOACCESS_KEY = ("almdesk_noaccess_5t1b", "na-secret-Pd73kXe2")
ADMIN_USER = ("sa@nga", "Welcome1")


def _principals() -> dict[str, Principal]:
    every = {ws: {"workspace_admin"} for ws, _, _ in WORKSPACES}
    out = [
        Principal(API_KEY[0], API_KEY[1], "api_key", SHARED_SPACE,
                  {"1002": {"ci_cd_integration"}, "1003": {"ci_cd_integration", "team_member"},
                   "1004": {"ci_cd_integration"}}),
        Principal(READONLY_KEY[0], READONLY_KEY[1], "api_key", SHARED_SPACE,
                  {"1002": {"viewer"}, "1003": {"viewer"}, "1004": {"viewer"}}),
        Principal(NOACCESS_KEY[0], NOACCESS_KEY[1], "api_key", SHARED_SPACE, {"1003": {"ci_cd_integration"}}),
        Principal(ADMIN_USER[0], ADMIN_USER[1], "user", SHARED_SPACE, every),
        Principal("alice@example.com", "Alice-pass1", "user", SHARED_SPACE, {"1002": {"team_member"}}),
        Principal("other_space_key", "other-secret-Vb39", "api_key", OTHER_SHARED_SPACE,
                  {"2002": {"ci_cd_integration"}}),
    ]
    return {p.name: p for p in out}


def _seed_workspace(ws: Workspace, rng: random.Random, defects: int, stories: int, origins: list[str],
                    now: datetime) -> None:
    random_id = _random_id(rng)  # drawn in every workspace (same seeding), used in one
    ids: dict[tuple[str, str], str] = {}
    for kind, phases in (("defect", DEFECT_PHASES), ("story", STORY_PHASES), ("feature", FEATURE_PHASES)):
        for index, (key, name) in enumerate(phases):
            logical = f"phase.{kind}.{key}"
            if kind == "defect" and key == RANDOM_ID_PHASE and ws.id == RANDOM_ID_WORKSPACE:
                logical = random_id  # a built-in replaced: phase.defect.* misses it, its name does not
            ids[(kind, key)] = logical
            ws.add("phase", {"id": logical, "logical_name": logical, "name": name, "entity": kind, "index": index})
    for kind, workflow in (("defect", DEFECT_WORKFLOW), ("story", STORY_WORKFLOW), ("feature", FEATURE_WORKFLOW)):
        for source, targets in workflow.items():
            for n, target in enumerate(targets):
                tid = f"{ids[(kind, source)]}>{ids[(kind, target)]}"
                ws.add("transition", {"id": tid, "logical_name": tid, "entity": kind, "is_primary": n == 0,
                                      "source_phase": ref("phase", ids[(kind, source)]),
                                      "target_phase": ref("phase", ids[(kind, target)])})

    def list_root(logical: str, name: str, children: list[tuple[str, str]], random_ids: bool = False) -> None:
        ws.add("list_node", {"id": logical, "logical_name": logical, "name": name, "list_root": None,
                             "activity_level": 0})
        for key, label in children:
            node_id = _random_id(rng) if random_ids else f"{logical}.{key}"
            ws.add("list_node", {"id": node_id, "logical_name": node_id, "name": label,
                                 "list_root": ref("list_node", logical), "activity_level": 0})

    list_root("list_node.severity", "Severity", SEVERITIES)
    list_root("list_node.priority", "Priority", PRIORITIES)
    list_root("list_node.item_origin", "Item origin", [(o.lower().replace(" ", "_"), o) for o in origins],
              random_ids=True)

    for i, (login, first, last) in enumerate(USERS):
        ws.add("workspace_user", {"id": str(1001 + i), "name": login, "email": login if "@" in login else "",
                                  "first_name": first, "last_name": last, "full_name": f"{first} {last}",
                                  "activity_level": 0})
    user_ids = list(ws.of_type("workspace_user"))

    start = now - timedelta(days=120)
    release_ids: list[str] = []
    for i, name in enumerate(RELEASES):
        rid = str(1001 + i)
        release_ids.append(rid)
        ws.add("release", {"id": rid, "name": name, "is_default": i == 2,
                           "start_date": iso(start + timedelta(days=30 * i)),
                           "end_date": iso(start + timedelta(days=30 * i + 29)), "activity_level": 0})

    ws.add("work_item", new_work_item("work_item_root", ROOT_ID, "Backlog", created=now - timedelta(days=200)))

    features: list[str] = []
    for i in range(4):
        fid = ws.new_id()
        features.append(fid)
        _add_item(ws, "feature", fid, f"Feature {i + 1}: {rng.choice(WORDS)} {rng.choice(WORDS)}",
                  ref("work_item", ROOT_ID), "phase.feature.new", None, None, rng, now, user_ids)
    defect_phases = [ids[("defect", k)] for k, _ in DEFECT_PHASES]
    weights = [30, 25, 10, 5, 20, 5, 3, 2]
    for _ in range(defects):
        did = ws.new_id()
        phase = rng.choices(defect_phases, weights)[0]
        severity = f"list_node.severity.{rng.choice(SEVERITIES)[0]}"
        release = rng.choice(release_ids[:4])
        title = f"{rng.choice(WORDS).capitalize()} {rng.choice(PROBLEMS)} {rng.choice(WORDS)}"
        _add_item(ws, "defect", did, title, ref("work_item", ROOT_ID), phase, severity, release, rng, now, user_ids)
    for _ in range(stories):
        sid = ws.new_id()
        phase = f"phase.story.{rng.choice(STORY_PHASES)[0]}"
        parent = ref("work_item", rng.choice(features))
        _add_item(ws, "story", sid, f"As a user I can {rng.choice(WORDS)} the {rng.choice(WORDS)}", parent,
                  phase, None, rng.choice(release_ids[:4]), rng, now, user_ids)


def _add_item(ws: Workspace, subtype: str, ident: str, name: str, parent: dict[str, str] | None, phase: str,
              severity: str | None, release: str | None, rng: random.Random, now: datetime,
              user_ids: list[str]) -> None:
    created = now - timedelta(days=rng.randint(1, 100), minutes=rng.randint(0, 1440))
    modified = created + timedelta(days=rng.randint(0, 10))
    ws.add("work_item", new_work_item(subtype, ident, name, parent=parent, phase=ref("phase", phase),
                                      severity=ref("list_node", severity), release=ref("release", release),
                                      owner=ref("workspace_user", rng.choice(user_ids)), created=created,
                                      modified=min(modified, now), is_draft=False))


def new_work_item(subtype: str, ident: str, name: str, **fields: Any) -> dict[str, Any]:
    """A work item with every field present (None where unset), as the sandbox stores it."""
    created: datetime = fields.pop("created", None) or datetime.now(UTC)
    modified: datetime = fields.pop("modified", None) or created
    item: dict[str, Any] = {
        "id": ident, "type": "work_item", "subtype": subtype, "name": name, "description": "",
        "parent": None, "phase": None, "severity": None, "priority": None, "release": None,
        "owner": None, "author": None, "detected_by": None, "item_origin": None, "is_draft": False,
        "user_tags": {"total_count": 0, "data": []}, "creation_time": iso(created), "last_modified": iso(modified),
        "version_stamp": 1,
    }
    item.update(fields)
    return item


WORK_ITEM_FIELDS = set(new_work_item("defect", "0", "x"))


def build(seed: int = 0, defects: int = 320, stories: int = 60, now: datetime | None = None) -> SiteData:
    """The whole site for one seed. ``defects``/``stories`` are per workspace (the first gets all,
    the others a third)."""
    rng = random.Random(seed)
    now = now or datetime(2025, 6, 2, 9, 0, tzinfo=UTC)
    workspaces: dict[str, Workspace] = {}
    for index, (wid, name, origins) in enumerate(WORKSPACES):
        ws = Workspace(wid, name, SHARED_SPACE)
        scale = 1 if index == 0 else 3
        _seed_workspace(ws, rng, defects // scale, stories // scale, origins, now)
        workspaces[wid] = ws
    other = Workspace("2002", "other_workspace", OTHER_SHARED_SPACE)
    _seed_workspace(other, rng, 10, 5, ["Customer"], now)
    workspaces["2002"] = other
    return SiteData(workspaces=workspaces,
                    shared_spaces={SHARED_SPACE: "default_shared_space", OTHER_SHARED_SPACE: "other_space"},
                    principals=_principals(),
                    version={"display_version": "16.2.100.87", "version": "16.2.100", "build_number": "87"})
