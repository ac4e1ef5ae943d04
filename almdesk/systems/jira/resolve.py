"""A connection's target resolved against Jira: project, issue type, parent, statuses, create screen.

Test Connection runs these checks one per step; the sync adapter's ``prepare()``, Create Defect and the
Gate run the ones they need. Each failure names the connection field at fault and lists valid values.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from almdesk.errors import AuthError, ConfigError
from almdesk.systems.jira.adf import to_adf
from almdesk.systems.jira.client import JiraClient, bad_name
from almdesk.systems.jira.errors import JiraApiError
from almdesk.systems.jira.fields import JiraTarget

# Fields almdesk fills itself on create (custom fields come from the connection's Custom fields).
BASE_FIELDS = ("project", "issuetype", "summary")
JIRA_DEFAULT_PRIORITIES = {"1-2": "Trivial", "3-4": "Minor", "5-6": "Major", "7-9": "Critical", "10": "Blocker"}
DEFAULT_RANK = {"Blocker": 0, "Critical": 1, "Major": 2, "Minor": 3, "Trivial": 4}
NEEDED_PERMISSIONS = ("BROWSE_PROJECTS", "CREATE_ISSUES", "TRANSITION_ISSUES")


@dataclass
class Resolved:
    """What the checks found; filled step by step."""

    project: dict[str, Any] = field(default_factory=dict)
    issue_type: dict[str, Any] = field(default_factory=dict)
    parent_key: str = ""
    statuses: list[str] = field(default_factory=list)
    screen: dict[str, dict[str, Any]] = field(default_factory=dict)  # create-screen fields by id
    custom: dict[str, Any] = field(default_factory=dict)  # field id -> value as Jira wants it
    version: dict[str, Any] | None = None
    priorities: list[str] = field(default_factory=list)  # allowed on the create screen, highest first


class Resolver:
    """Runs the checks of one connection's target, caching what each found."""

    def __init__(self, client: JiraClient, target: JiraTarget) -> None:
        self.client = client
        self.target = target
        self.found = Resolved()

    # --- project --------------------------------------------------------------------------
    def project(self) -> dict[str, Any]:
        if self.found.project:
            return self.found.project
        key = self.target.project
        project = self.client.project(key)
        if project is None:
            visible = self.client.projects()
            keys = [str(p.get("key")) for p in visible]
            near = next((k for k in keys if k.lower() == key.lower()), None)
            hint = (f"Did you mean {near}? Project keys are case-sensitive." if near else
                    f"Projects this account can see: {', '.join(keys) or '(none)'}.")
            raise ConfigError(f"Project {key!r} was not found, or this account cannot browse it.", hint,
                              field="alm_project")
        self.found.project = project
        return project

    def permissions(self) -> dict[str, bool]:
        key = self.project()["key"]
        have = self.client.my_permissions(key, NEEDED_PERMISSIONS)
        missing = [p for p, ok in have.items() if not ok]
        if missing:
            raise AuthError(f"The account lacks {', '.join(missing)} in project {key}.",
                            "Ask a Jira admin to grant these project permissions (through a project role or the "
                            "permission scheme) to the account almdesk uses.")
        return have

    # --- issue type and parent ------------------------------------------------------------
    def issue_type(self) -> dict[str, Any]:
        if self.found.issue_type:
            return self.found.issue_type
        key = self.project()["key"]
        types = self.client.create_issue_types(key)
        wanted = self.target.issue_type
        match = next((t for t in types if str(t.get("name", "")).lower() == wanted.lower()), None)
        if match is None:
            raise bad_name("Issue type", wanted, [str(t.get("name")) for t in types], "jira_issue_type",
                           f"project {key} (or this account cannot create it there)")
        self.found.issue_type = match
        return match

    def parent(self) -> str:
        itype = self.issue_type()
        parent = self.target.parent
        if itype.get("subtask") and not parent:
            raise ConfigError(f"Issue type {itype['name']!r} is a sub-task type, so it needs a parent issue.",
                              "Set Parent issue to the key of the issue the sub-tasks go under (e.g. DEMO-12), or "
                              "choose a standard issue type.", field="alm_parent_issue")
        if not parent:
            return ""
        if not itype.get("subtask"):
            raise ConfigError(f"Parent issue is set, but {itype['name']!r} is not a sub-task type.",
                              "Choose a sub-task issue type (e.g. Sub-task), or clear Parent issue.",
                              field="alm_parent_issue")
        issue = self.client.issue(parent)
        project_key = self.project()["key"]
        if issue is None or not str(issue.get("key", "")).startswith(f"{project_key}-"):
            raise ConfigError(f"Parent issue {parent!r} was not found in project {project_key}.",
                              "Enter the key of an existing issue of the project, e.g. "
                              f"{project_key}-12.", field="alm_parent_issue")
        if (issue.get("fields") or {}).get("issuetype", {}).get("subtask"):
            raise ConfigError(f"Parent issue {parent} is itself a sub-task; sub-tasks cannot have sub-tasks.",
                              "Choose a standard issue as the parent.", field="alm_parent_issue")
        self.found.parent_key = str(issue["key"])
        return self.found.parent_key

    # --- statuses -------------------------------------------------------------------------
    def statuses(self) -> list[str]:
        if self.found.statuses:
            return self.found.statuses
        key = self.project()["key"]
        itype = self.issue_type()
        per_type = self.client.project_statuses(key)
        entry = next((e for e in per_type if str(e.get("id")) == str(itype.get("id"))), None)
        names = [str(s.get("name")) for s in (entry or {}).get("statuses") or []]
        self._check_done(names)
        self.found.statuses = names
        return names

    def _check_done(self, names: list[str]) -> None:
        """ConfigError when a done status is not in the issue type's workflow (``names``; empty: unknown)."""
        if not names:
            return
        known = {n.lower() for n in names}
        unknown = [d for d in self.target.done_statuses if d.lower() not in known]
        if unknown:
            itype, key = self.found.issue_type, self.found.project.get("key")
            raise ConfigError(f"Done status(es) {', '.join(unknown)} do not exist in the workflow of "
                              f"{itype.get('name')} in {key}.", f"Statuses of {itype.get('name')}: {', '.join(names)}.",
                              field="jira_done_statuses")

    # --- create screen --------------------------------------------------------------------
    def screen(self) -> dict[str, dict[str, Any]]:
        if self.found.screen:
            return self.found.screen
        key = self.project()["key"]
        itype = self.issue_type()
        fields = self.client.create_fields(key, str(itype["id"]))
        self.found.screen = {str(f.get("fieldId") or f.get("key")): f for f in fields}
        allowed = self.found.screen.get("priority", {}).get("allowedValues") or []
        self.found.priorities = [str(p.get("name")) for p in allowed]
        return self.found.screen

    def custom_fields(self) -> dict[str, Any]:
        """Custom fields from the connection, by field id, formatted for Jira; unknown names fail."""
        screen = self.screen()
        by_name = {str(f.get("name", "")).lower(): fid for fid, f in screen.items()}
        out: dict[str, Any] = {}
        for name, value in self.target.custom.items():
            fid = name if name in screen else by_name.get(str(name).lower())
            if fid is None:
                raise bad_name("Field", str(name), sorted(str(f.get("name")) for f in screen.values()),
                               "alm_custom_fields", f"the create screen of {self.issue_type()['name']}")
            out[fid] = self._format(screen[fid], value)
        self.found.custom = out
        return out

    def _format(self, meta: dict[str, Any], value: Any) -> Any:
        schema = meta.get("schema") or {}
        kind, items = schema.get("type"), schema.get("items")
        allowed = meta.get("allowedValues")
        name = meta.get("name", meta.get("fieldId"))

        def option(v: Any) -> dict[str, Any]:
            text = str(v)
            if allowed:
                labels = [str(a.get("value", a.get("name", ""))) for a in allowed]
                if text not in labels:
                    raise ConfigError(f"{text!r} is not an allowed value of {name}.",
                                      f"Allowed values: {', '.join(labels)}.", field="alm_custom_fields")
            return {"name": text} if items in ("version", "component") else {"value": text}

        if kind == "option":
            return option(value)
        if kind == "array" and items in ("option", "version", "component"):
            values = value if isinstance(value, list) else [value]
            return [option(v) for v in values]
        if kind == "array":
            return [str(v) for v in (value if isinstance(value, list) else [value])]
        if kind == "number":
            try:
                return float(value)
            except (TypeError, ValueError):
                raise ConfigError(f"{name} needs a number, not {value!r}.", "Write the value as a number.",
                                  field="alm_custom_fields") from None
        if kind in ("priority", "version", "resolution"):
            return {"name": str(value)}
        if kind == "user":
            return {"accountId": str(value)} if self.client.cloud else {"name": str(value)}
        if kind == "string" and "textarea" in str(schema.get("custom", "")) and self.client.cloud:
            return to_adf(str(value))
        return value if isinstance(value, dict | list) else str(value)

    def version(self, name: str = "") -> dict[str, Any] | None:
        wanted = name or self.target.version
        if not wanted:
            return None
        screen = self.screen()
        field_name = "alm_project_version" if not name else "release"
        if "fixVersions" not in screen:
            raise ConfigError(f"The create screen of {self.issue_type()['name']} has no Fix versions field, so "
                              f"version {wanted!r} cannot be set.",
                              "Ask a Jira admin to add Fix versions to the create screen, or clear the version.",
                              field=field_name)
        versions = screen["fixVersions"].get("allowedValues") or self.client.versions(self.project()["key"])
        match = next((v for v in versions if str(v.get("name")) == wanted), None)
        if match is None:
            raise bad_name("Version", wanted, [str(v.get("name")) for v in versions], field_name,
                           f"project {self.project()['key']}")
        self.found.version = match
        return match

    def required_fields(self, also: tuple[str, ...] = ()) -> list[str]:
        """Names of the required create fields; ConfigError listing the ones almdesk would leave empty."""
        screen = self.screen()
        custom = self.custom_fields()
        covered = set(BASE_FIELDS) | set(custom) | {"description"} | set(also)
        if self.target.label:
            covered.add("labels")
        if self.parent():
            covered.add("parent")
        if self.version():
            covered.add("fixVersions")
        if "priority" in screen:
            covered.add("priority")
        required = [(fid, f) for fid, f in screen.items() if f.get("required")]
        missing = [(fid, f) for fid, f in required if fid not in covered and not f.get("hasDefaultValue")]
        if missing:
            parts = []
            for _, f in missing:
                allowed = [str(a.get("value", a.get("name", ""))) for a in f.get("allowedValues") or []]
                parts.append(f"{f.get('name')}" + (f" (one of {', '.join(allowed[:8])})" if allowed else ""))
            example = {str(missing[0][1].get("name")): (
                str((missing[0][1].get("allowedValues") or [{}])[0].get("value", "…")) if missing[0][1].get(
                    "allowedValues") else "…")}
            raise ConfigError(f"Creating a {self.issue_type()['name']} in {self.project()['key']} requires "
                              f"field(s) almdesk does not fill: {'; '.join(parts)}.",
                              f"Give them a value in the connection's Custom fields, e.g. {json.dumps(example)}.",
                              field="alm_custom_fields")
        return [str(f.get("name")) for _, f in required]

    def labels_allowed(self) -> bool:
        label = self.target.label
        if not label:
            return False
        if any(ch.isspace() for ch in label):
            raise ConfigError(f"Label {label!r} contains spaces, which Jira does not allow in labels.",
                              "Use a label without spaces, e.g. SD-Elements.", field="alm_issue_label")
        if "labels" not in self.screen():
            itype = self.issue_type()["name"]
            raise ConfigError(f"The create screen of {itype} in {self.project()['key']} has no Labels field, so "
                              f"almdesk can neither label its issues {label!r} nor find them by that label.",
                              f"Ask a Jira admin to add Labels to the create screen of {itype}, or clear Label "
                              "(then every issue of the project is a candidate).", field="alm_issue_label")
        return True

    def for_sync(self) -> Resolved:
        """Every check of :meth:`all`, in three requests: the project, its statuses, the create screen.

        ``project/{key}/statuses`` lists each issue type of the project (id, name, sub-task or not) with
        its statuses, so it stands in for the createmeta issue-type list. That list also said which types
        the account may *create*; here the create screen of the chosen type says it (createmeta answers
        400 or 404 for a type the account cannot create), and only then is the creatable list read, to
        name the valid types.
        """
        project = self.project()
        key = str(project["key"])
        per_type = self.client.project_statuses(key)
        wanted = self.target.issue_type
        entry = next((e for e in per_type if str(e.get("name", "")).lower() == wanted.lower()), None)
        if entry is None:
            self.issue_type()  # raises, listing the types the account can create
            raise bad_name("Issue type", wanted, [str(e.get("name")) for e in per_type], "jira_issue_type",
                           f"project {key}")
        self.found.issue_type = {k: v for k, v in entry.items() if k != "statuses"}
        names = [str(st.get("name")) for st in entry.get("statuses") or []]
        self._check_done(names)
        self.found.statuses = names
        try:
            self.screen()
        except JiraApiError as exc:
            if exc.status not in (400, 404):
                raise
            self.found.issue_type = {}
            self.issue_type()  # raises when the account cannot create the type, listing those it can
            raise
        self.parent()
        self.labels_allowed()
        self.required_fields()
        return self.found

    def all(self) -> Resolved:
        """Every check (what the sync needs before it writes)."""
        self.project()
        self.issue_type()
        self.parent()
        self.statuses()
        self.labels_allowed()
        self.required_fields()
        return self.found
