"""JSON shapes of the Jira sandbox's resources, as Cloud (v2/v3) and Data Center (v2) return them.

Cloud-mode shapes stick to the properties of Atlassian's OpenAPI document (whose schemas forbid
extra properties), so the sandbox's answers validate against it.
"""

from __future__ import annotations

from typing import Any

from almdesk.sandbox.jira import adf
from almdesk.sandbox.jira.model import (
    CATEGORIES,
    FieldDef,
    Issue,
    IssueType,
    JiraData,
    Project,
    ScreenField,
    Status,
    Transition,
    User,
    Version,
    jira_time,
)

NAVIGABLE = ("summary", "description", "issuetype", "project", "status", "labels", "priority", "fixVersions",
             "parent", "resolution", "resolutiondate", "created", "updated", "reporter", "subtasks")


class Renderer:
    """Renders resources for one request: ``base`` is the site URL, ``api`` the REST version used."""

    def __init__(self, data: JiraData, base: str, api: str) -> None:
        self.data = data
        self.base = base
        self.api = api
        self.cloud = data.mode == "cloud"
        self.rest = f"{base}/rest/api/{api}"

    def avatars(self, kind: str, ident: str) -> dict[str, str]:
        return {size: f"{self.base}/secure/{kind}avatar?size={label}&avatarId={ident}"
                for size, label in (("48x48", "large"), ("24x24", "small"), ("16x16", "xsmall"),
                                    ("32x32", "medium"))}

    def user(self, u: User, full: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"self": f"{self.rest}/user?" + (f"accountId={u.key}" if self.cloud
                                                                 else f"username={u.name}")}
        if self.cloud:
            out.update(accountId=u.key, accountType="atlassian")
        else:
            out.update(name=u.name, key=u.key)
        out.update(emailAddress=u.email, avatarUrls=self.avatars("user", "10122"), displayName=u.display,
                   active=True, timeZone=u.time_zone)
        if full:
            out["locale"] = "en_US"
            out["groups"] = {"size": 1, "items": []}
            out["applicationRoles"] = {"size": 1, "items": []}
            out["expand"] = "groups,applicationRoles"
        return out

    def category(self, key: str) -> dict[str, Any]:
        cid, name, colour = CATEGORIES[key]
        return {"self": f"{self.rest}/statuscategory/{cid}", "id": cid, "key": key, "colorName": colour,
                "name": name}

    def status(self, s: Status) -> dict[str, Any]:
        return {"self": f"{self.rest}/status/{s.id}", "description": s.description,
                "iconUrl": f"{self.base}/images/icons/statuses/generic.png", "name": s.name, "id": s.id,
                "statusCategory": self.category(s.category)}

    def issuetype(self, t: IssueType) -> dict[str, Any]:
        out: dict[str, Any] = {"self": f"{self.rest}/issuetype/{t.id}", "id": t.id, "description": t.description,
                               "iconUrl": f"{self.base}/images/icons/issuetypes/{t.name.lower()}.svg",
                               "name": t.name, "subtask": t.subtask, "avatarId": 10300 + int(t.id) % 100}
        if self.cloud:
            out["hierarchyLevel"] = t.level
        return out

    def version(self, v: Version) -> dict[str, Any]:
        return {"self": f"{self.rest}/version/{v.id}", "id": v.id, "name": v.name, "archived": v.archived,
                "released": v.released, "projectId": int(v.project_id)}

    def priority(self, pid: str) -> dict[str, Any]:
        return {"self": f"{self.rest}/priority/{pid}", "iconUrl": f"{self.base}/images/icons/priorities/{pid}.svg",
                "name": self.data.priority_name(pid), "id": pid}

    def resolution(self, rid: str) -> dict[str, Any]:
        return {"self": f"{self.rest}/resolution/{rid}", "id": rid, "description": "",
                "name": self.data.resolution_name(rid)}

    def project(self, p: Project, expand: str = "") -> dict[str, Any]:
        out: dict[str, Any] = {
            "expand": "description,lead,issueTypes,url,projectKeys,permissions,insight",
            "self": f"{self.rest}/project/{p.id}", "id": p.id, "key": p.key, "description": p.description,
            "lead": self.user(self.data.users[p.lead]), "components": [],
            "issueTypes": [self.issuetype(self.data.issue_types[t]) for t in p.issue_types],
            "assigneeType": "UNASSIGNED", "versions": [self.version(v) for v in p.versions], "name": p.name,
            "roles": {"Administrators": f"{self.rest}/project/{p.id}/role/10002"},
            "avatarUrls": self.avatars("project", "10400"), "projectTypeKey": "software",
        }
        if self.cloud:
            out.update(simplified=False, style="classic", isPrivate=False, properties={})
        else:
            out["archived"] = False
        return out

    def project_brief(self, p: Project) -> dict[str, Any]:
        return {"expand": "description,lead,issueTypes,url,projectKeys,permissions,insight",
                "self": f"{self.rest}/project/{p.id}", "id": p.id, "key": p.key, "name": p.name,
                "avatarUrls": self.avatars("project", "10400"), "projectTypeKey": "software",
                **({"simplified": False, "style": "classic", "isPrivate": False, "properties": {}} if self.cloud
                   else {})}

    def field(self, f: FieldDef) -> dict[str, Any]:
        out: dict[str, Any] = {"id": f.id, "name": f.name, "custom": f.custom, "orderable": f.orderable,
                               "navigable": f.navigable, "searchable": f.searchable,
                               "clauseNames": list(f.clause_names), "schema": f.schema}
        if self.cloud:
            out["key"] = f.id
        return out

    def allowed_values(self, f: FieldDef, project: Project) -> list[Any] | None:
        if f.id == "priority":
            return [self.priority(pid) for pid, _ in self.data.priorities]
        if f.id == "fixVersions":
            return [self.version(v) for v in project.versions]
        if f.id == "resolution":
            return [self.resolution(rid) for rid, _ in self.data.resolutions]
        if f.allowed:
            return [{"self": f"{self.rest}/customFieldOption/{10100 + i}", "value": v, "id": str(10100 + i)}
                    for i, v in enumerate(f.allowed)]
        return None

    def create_field(self, fid: str, sf: ScreenField, project: Project) -> dict[str, Any]:
        f = self.data.fields[fid]
        out: dict[str, Any] = {"required": sf.required, "schema": f.schema, "name": f.name, "fieldId": fid,
                               "key": fid, "hasDefaultValue": sf.default is not None,
                               "operations": ["set", "add", "remove"] if fid == "labels" else ["set"]}
        allowed = self.allowed_values(f, project)
        if allowed is not None:
            out["allowedValues"] = allowed
        if fid == "priority":
            out["defaultValue"] = self.priority(self.data.default_priority)
        if fid == "labels":
            out["autoCompleteUrl"] = f"{self.rest}/label/suggest?query="
        return out

    def transition(self, t: Transition, with_fields: bool, project: Project) -> dict[str, Any]:
        out: dict[str, Any] = {"id": t.id, "name": t.name, "to": self.status(self.data.statuses[t.to])}
        if self.cloud:
            out.update(hasScreen=bool(t.required), isGlobal=t.sources is None, isInitial=False, isAvailable=True,
                       isConditional=False, isLooped=False)
        if with_fields:
            out["fields"] = {fid: {"required": True, "schema": self.data.fields[fid].schema,
                                   "name": self.data.fields[fid].name, "key": fid, "hasDefaultValue": False,
                                   "operations": ["set"],
                                   "allowedValues": self.allowed_values(self.data.fields[fid], project) or []}
                             for fid in t.required}
        return out

    # --- issues -----------------------------------------------------------------------------
    def issue_link(self, issue: Issue) -> dict[str, Any]:
        return {"id": str(issue.id), "key": issue.key, "self": f"{self.rest}/issue/{issue.id}",
                "fields": {"summary": issue.summary, "status": self.status(self.data.statuses[issue.status]),
                           "priority": self.priority(issue.priority) if issue.priority else None,
                           "issuetype": self.issuetype(self.data.issue_types[issue.issuetype])}}

    def field_value(self, issue: Issue, fid: str) -> Any:
        data = self.data
        if fid == "summary":
            return issue.summary
        if fid == "description":
            if self.api == "3":
                return adf.from_text(issue.description)
            return issue.description or None
        if fid == "issuetype":
            return self.issuetype(data.issue_types[issue.issuetype])
        if fid == "project":
            return self.project_brief(data.projects[issue.project])
        if fid == "status":
            return self.status(data.statuses[issue.status])
        if fid == "labels":
            return list(issue.labels)
        if fid == "priority":
            return self.priority(issue.priority) if issue.priority else None
        if fid == "fixVersions":
            return [self.version(v) for v in (data.version(vid) for vid in issue.fix_versions) if v]
        if fid == "parent":
            return self.issue_link(data.issues[issue.parent]) if issue.parent else None
        if fid == "resolution":
            return self.resolution(issue.resolution) if issue.resolution else None
        if fid == "resolutiondate":
            return jira_time(issue.resolved) if issue.resolved else None
        if fid in ("created", "updated"):
            return jira_time(getattr(issue, fid))
        if fid == "reporter":
            return self.user(data.users[issue.reporter])
        if fid == "subtasks":
            return [self.issue_link(i) for i in data.issues.values() if i.parent == issue.id]
        value = issue.custom.get(fid)
        f = data.fields.get(fid)
        if value is not None and f is not None and f.allowed:
            idx = f.allowed.index(value)
            return {"self": f"{self.rest}/customFieldOption/{10100 + idx}", "value": value, "id": str(10100 + idx)}
        return value

    def issue(self, issue: Issue, fields: list[str] | None, expand: str = "",
              transitions: list[Transition] | None = None, *, wanted: list[str] | None = None) -> dict[str, Any]:
        """One issue; ``wanted`` is ``select_fields(fields)`` when the caller renders a page of them."""
        out: dict[str, Any] = {"expand": "renderedFields,names,schema,operations,editmeta,changelog,"
                                         "versionedRepresentations", "id": str(issue.id),
                               "self": f"{self.rest}/issue/{issue.id}", "key": issue.key}
        if wanted is None:
            wanted = self.select_fields(fields)
        if wanted:
            out["fields"] = {fid: self.field_value(issue, fid) for fid in wanted}
        if transitions is not None:
            project = self.data.projects[issue.project]
            out["transitions"] = [self.transition(t, "transitions.fields" in expand, project) for t in transitions]
        return out

    def select_fields(self, fields: list[str] | None) -> list[str]:
        """Jira's ``fields`` parameter: ``*all``, ``*navigable``, ids/clause names, ``-x`` to exclude."""
        every = [*NAVIGABLE, *(f for f in self.data.fields if f.startswith("customfield_"))]
        if fields is None:
            return every
        chosen: list[str] = []
        excluded: set[str] = set()
        for raw in fields:
            for name in (p.strip() for p in raw.split(",")):
                if not name:
                    continue
                if name in ("*all", "*navigable"):
                    chosen.extend(every)
                elif name.startswith("-"):
                    excluded.add(name[1:])
                elif name in ("id", "key"):
                    continue
                else:
                    f = self.data.field_by_any(name)
                    if f is not None and f.id in every:
                        chosen.append(f.id)
        if excluded and not chosen:
            chosen = list(every)
        seen: dict[str, None] = {}
        for fid in chosen:
            if fid not in excluded:
                seen[fid] = None
        return list(seen)
