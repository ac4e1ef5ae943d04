"""Issue endpoints of the Jira sandbox: create (single and bulk), read, edit and transitions.

Creation is validated against the project's create screen the way Jira does it (fields not on the
screen, required fields, summary rules, labels without spaces, ADF descriptions in v3, sub-tasks
needing a parent), with Jira's messages in an ErrorCollection. Bulk create takes at most 50 issues and
answers 201 when any was created, 400 when none was, listing ``failedElementNumber`` per failure.
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Response

from almdesk.sandbox.base import json_response
from almdesk.sandbox.jira import adf
from almdesk.sandbox.jira.context import ApiError, Call
from almdesk.sandbox.jira.model import Issue, IssueType, Project, now

BULK_LIMIT = 50


def _ref(value: Any) -> str | None:
    """The id, key or name a reference object names (``{"id"}``, ``{"key"}``, ``{"name"}``, ``{"value"}``)."""
    if isinstance(value, dict):
        for k in ("id", "key", "name", "value", "accountId"):
            if value.get(k) not in (None, ""):
                return str(value[k])
        return None
    if isinstance(value, str | int) and not isinstance(value, bool):
        return str(value)
    return None


class IssueBuilder:
    """Turns one create payload into the values of a new issue, or raises ApiError(400) with field errors."""

    def __init__(self, call: Call) -> None:
        self.call = call
        self.data = call.data

    def build(self, payload: Any) -> tuple[Project, IssueType, dict[str, Any]]:
        if not isinstance(payload, dict):
            raise ApiError(400, ["The issue to create must be a JSON object."])
        fields = payload.get("fields") or {}
        update = payload.get("update") or {}
        if not isinstance(fields, dict) or not isinstance(update, dict):
            raise ApiError(400, ["'fields' and 'update' must be JSON objects."])
        project = self._project(fields.get("project"))
        if not self.call.can("CREATE_ISSUES"):
            raise ApiError(400, errors={"project": "You do not have permission to create issues in this project."})
        itype = self._issuetype(project, fields.get("issuetype"))
        screen = project.screens[itype.id]
        errors: dict[str, str] = {}
        values: dict[str, Any] = {"custom": {}}
        names = set(fields) | set(update)
        for key in sorted(names - {"project", "issuetype"}):
            if key not in screen:
                errors[key] = f"Field '{key}' cannot be set. It is not on the appropriate screen, or unknown."
        summary = fields.get("summary")
        if not isinstance(summary, str) or not summary.strip():
            errors["summary"] = "You must specify a summary of the issue."
        elif len(summary) > 255:
            errors["summary"] = "Summary must be less than 255 characters."
        elif "\n" in summary or "\r" in summary:
            errors["summary"] = "The summary is invalid because it contains newline characters."
        else:
            values["summary"] = summary
        for key, value in fields.items():
            if key in errors or key in ("project", "issuetype", "summary"):
                continue
            try:
                self._field(project, itype, key, value, values)
            except ValueError as exc:
                errors[key] = str(exc)
        if "labels" in update and "labels" not in errors:
            try:
                values["labels"] = self._label_ops(values.get("labels", []), update["labels"])
            except ValueError as exc:
                errors["labels"] = str(exc)
        if itype.subtask and values.get("parent") is None and "parent" not in errors:
            errors["issuetype"] = "Issue type is a sub-task but parent issue key or id not specified."
        for fid, sf in screen.items():
            if fid in ("project", "issuetype", "summary", "parent") or not sf.required or sf.default is not None:
                continue
            present = values["custom"].get(fid) if fid.startswith("customfield_") else values.get(fid)
            if present in (None, "", []) and fid not in errors:
                errors[fid] = f"{self.data.fields[fid].name} is required."
        if errors:
            raise ApiError(400, errors=errors)
        return project, itype, values

    def _project(self, value: Any) -> Project:
        ref = _ref(value)
        project = self.data.project(ref) if ref else None
        if project is None or not self.call.can("BROWSE_PROJECTS"):
            raise ApiError(400, errors={"project": "Specify a valid project ID or key"})
        return project

    def _issuetype(self, project: Project, value: Any) -> IssueType:
        ref = _ref(value)
        if ref is None:
            raise ApiError(400, errors={"issuetype": "Specify an issue type"})
        itype = self.data.issuetype_named(ref, project)
        if itype is None:
            raise ApiError(400, errors={"issuetype": "The issue type selected is invalid."})
        return itype

    def _field(self, project: Project, itype: IssueType, key: str, value: Any, values: dict[str, Any]) -> None:
        data = self.data
        if key == "description":
            if value is None:
                return
            if self.call.v3:
                problem = adf.validate(value)
                if problem:
                    raise ValueError(problem)
                values["description"] = adf.to_text(value)
            elif isinstance(value, str):
                values["description"] = value
            else:
                raise ValueError("Operation value must be a string")
        elif key == "labels":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError("Operation value must be a string array")
            values["labels"] = self._check_labels(value)
        elif key == "priority":
            ref = _ref(value)
            found = data.priority_named(ref) if ref else None
            if found is None:
                raise ValueError("The priority selected is invalid.")
            values["priority"] = found[0]
        elif key == "fixVersions":
            if not isinstance(value, list):
                raise ValueError("Operation value must be an array")
            ids = []
            for item in value:
                ref = _ref(item)
                by_id = isinstance(item, dict) and "id" in item
                version = next((v for v in project.versions if (v.id == ref if by_id else v.name == ref)), None)
                if version is None:
                    raise ValueError(f"Version {'id' if by_id else 'name'} '{ref}' is not valid")
                ids.append(version.id)
            values["fix_versions"] = ids
        elif key == "parent":
            ref = _ref(value)
            parent = data.issue(ref) if ref else None
            if parent is None or parent.project != project.id:
                raise ValueError("Could not find issue by id or key.")
            if data.issue_types[parent.issuetype].subtask:
                raise ValueError("A sub-task cannot be the parent of another sub-task.")
            values["parent"] = parent.id
        elif key == "reporter":
            return
        elif key.startswith("customfield_"):
            f = data.fields[key]
            if value is None:
                return
            if f.allowed:
                ref = _ref(value)
                option = next((a for i, a in enumerate(f.allowed) if ref in (a, str(10100 + i))), None)
                if option is None:
                    raise ValueError(f"Option value '{ref}' is not valid")
                values["custom"][key] = option
            else:
                if not isinstance(value, str | int | float):
                    raise ValueError("Operation value must be a string")
                values["custom"][key] = str(value)

    @staticmethod
    def _check_labels(labels: list[str]) -> list[str]:
        for label in labels:
            if not label or any(ch.isspace() for ch in label):
                raise ValueError(f"The label '{label}' contains spaces which is invalid.")
            if len(label) > 255:
                raise ValueError("The label must not exceed 255 characters.")
        return list(dict.fromkeys(labels))

    def _label_ops(self, current: list[str], ops: Any) -> list[str]:
        labels = list(current)
        if not isinstance(ops, list):
            raise ValueError("Operation value must be an array of operations")
        for op in ops:
            if not isinstance(op, dict) or len(op) != 1:
                raise ValueError("Each operation must have exactly one of add, remove, set")
            (verb, arg), = op.items()
            if verb == "set":
                labels = self._check_labels(list(arg))
            elif verb == "add":
                labels = self._check_labels([*labels, str(arg)])
            elif verb == "remove":
                labels = [x for x in labels if x != arg]
            else:
                raise ValueError(f"Operation '{verb}' is not supported for labels")
        return labels


def _created(call: Call, issue: Issue) -> dict[str, Any]:
    return {"id": str(issue.id), "key": issue.key, "self": f"{call.render.rest}/issue/{issue.id}"}


def _insert(call: Call, project: Project, itype: IssueType, values: dict[str, Any]) -> Issue:
    user = call.require_user()
    summary = values.pop("summary")
    issue = call.data.add_issue(project, itype, summary, user.key, **values)
    if call.data.search_lag:
        call.data.unindexed[issue.id] = call.data.search_lag
    return issue


def create_issue(call: Call) -> Response:
    call.require_user()
    project, itype, values = IssueBuilder(call).build(call.object_body())
    issue = _insert(call, project, itype, values)
    return json_response(_created(call, issue), 201)


def create_bulk(call: Call) -> Response:
    call.require_user()
    body = call.object_body()
    updates = body.get("issueUpdates")
    if not isinstance(updates, list):
        raise ApiError(400, ["Specify the issues to create in issueUpdates."])
    if len(updates) > BULK_LIMIT:
        raise ApiError(400, [f"The number of issues to create ({len(updates)}) exceeds the limit of "
                             f"{BULK_LIMIT} per request."])
    created: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    builder = IssueBuilder(call)
    count = call.options.get("bulk_items")
    if count is not None:
        count(len(updates))  # the latency model's per-item server cost
    for n, payload in enumerate(updates):
        try:
            project, itype, values = builder.build(payload)
        except ApiError as exc:
            errors.append({"status": 400, "elementErrors": {"errorMessages": exc.messages, "errors": exc.errors},
                           "failedElementNumber": n})
            continue
        created.append(_created(call, _insert(call, project, itype, values)))
    return json_response({"issues": created, "errors": errors}, 201 if created else 400)


def _visible_issue(call: Call) -> Issue:
    issue = call.data.issue(call.params["key"])
    if issue is None or not call.can("BROWSE_PROJECTS"):
        raise ApiError(404, ["Issue does not exist or you do not have permission to see it."])
    return issue


def get_issue(call: Call) -> Response:
    issue = _visible_issue(call)
    expand = call.arg("expand")
    transitions = None
    if "transitions" in expand:
        transitions = call.data.workflow_for(issue).available(issue.status) if call.can("TRANSITION_ISSUES") else []
    return json_response(call.render.issue(issue, call.list_arg("fields"), expand, transitions))


def edit_issue(call: Call) -> Response:
    issue = _visible_issue(call)
    if not call.can("EDIT_ISSUES"):
        raise ApiError(403, ["You do not have permission to edit issues in this project."])
    body = call.object_body()
    project = call.data.projects[issue.project]
    builder = IssueBuilder(call)
    values: dict[str, Any] = {"custom": {}, "labels": list(issue.labels)}
    errors: dict[str, str] = {}
    screen = project.screens[issue.issuetype]
    for key, value in (body.get("fields") or {}).items():
        if key == "summary" and isinstance(value, str) and value.strip() and len(value) <= 255:
            values["summary"] = value
            continue
        if key not in screen:
            errors[key] = f"Field '{key}' cannot be set. It is not on the appropriate screen, or unknown."
            continue
        try:
            builder._field(project, call.data.issue_types[issue.issuetype], key, value, values)
        except ValueError as exc:
            errors[key] = str(exc)
    if "labels" in (body.get("update") or {}):
        try:
            values["labels"] = builder._label_ops(values["labels"], body["update"]["labels"])
        except ValueError as exc:
            errors["labels"] = str(exc)
    if errors:
        raise ApiError(400, errors=errors)
    custom = values.pop("custom")
    if "fix_versions" in values:
        issue.fix_versions = values.pop("fix_versions")
    for key, value in values.items():
        setattr(issue, key, value)
    issue.custom.update(custom)
    issue.updated = now()
    return Response(status=204)


def get_transitions(call: Call) -> Response:
    issue = _visible_issue(call)
    available = call.data.workflow_for(issue).available(issue.status) if call.can("TRANSITION_ISSUES") else []
    with_fields = "transitions.fields" in call.arg("expand")
    wanted = call.arg("transitionId")
    if wanted:
        available = [t for t in available if t.id == wanted]
    project = call.data.projects[issue.project]
    return json_response({"expand": "transitions",
                          "transitions": [call.render.transition(t, with_fields, project) for t in available]})


def do_transition(call: Call) -> Response:
    issue = _visible_issue(call)
    body = call.object_body()
    ref = _ref(body.get("transition"))
    if ref is None:
        raise ApiError(400, ["Missing 'transition' identifier"])
    available = call.data.workflow_for(issue).available(issue.status) if call.can("TRANSITION_ISSUES") else []
    transition = next((t for t in available if t.id == ref), None)
    if transition is None:
        raise ApiError(400, [f"Transition id '{ref}' is not valid for this issue."])
    fields = body.get("fields") or {}
    resolution: str | None = issue.resolution
    given = _ref(fields.get("resolution")) if "resolution" in fields else None
    if given is not None:
        found = call.data.resolution_named(given)
        if found is None:
            raise ApiError(400, errors={"resolution": f"Resolution '{given}' is not valid."})
        resolution = found[0]
    missing = [fid for fid in transition.required if fid not in fields or fields[fid] in (None, "", {})]
    if missing:
        raise ApiError(400, errors={fid: f"{call.data.fields[fid].name} is required." for fid in missing})
    if given is None:
        if transition.resolution is None:
            resolution = None
        elif transition.resolution and resolution is None:
            found = call.data.resolution_named(transition.resolution)
            resolution = found[0] if found else None
    stamp = now()
    issue.status = transition.to
    if resolution != issue.resolution:
        issue.resolved = stamp if resolution else None
    issue.resolution = resolution
    issue.updated = stamp
    return Response(status=204)
