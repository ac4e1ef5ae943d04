"""Issue endpoints of the GitHub sandbox: list (filters, sort, paging), create, get, update, issue labels."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from werkzeug.wrappers import Response

from almdesk.sandbox.github import render
from almdesk.sandbox.github.http import Call, HttpError, invalid, not_found, reply
from almdesk.sandbox.github.model import Issue, Label, Repo, at_least, now_iso
from almdesk.sandbox.github.seed import add_issue

TITLE_MAX = 256
STATE_REASONS = ("completed", "not_planned", "duplicate", "reopened")  # "duplicate": current REST description


def _parse_time(text: str, field_name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise invalid("Issue", field_name) from None
    if moment.tzinfo is None:
        raise invalid("Issue", field_name)
    return moment


def _stamp_time(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _issue_json(call: Call, repo: Repo, item: Issue) -> dict[str, Any]:
    return render.issue(item, repo, call.world, call.api, call.web, counts=call.memo)


def list_issues(call: Call, owner: str, name: str) -> Response:
    repo, _role = call.repo(owner, name)
    if not repo.has_issues:
        raise HttpError(410, "Issues are disabled for this repo")
    state = call.arg("state", "open")
    if state not in ("open", "closed", "all"):
        raise invalid("Issue", "state")
    sort = call.arg("sort", "created")
    if sort not in ("created", "updated", "comments"):
        raise invalid("Issue", "sort")
    direction = call.arg("direction", "desc")
    if direction not in ("asc", "desc"):
        raise invalid("Issue", "direction")
    items = [i for i in repo.issues.values() if state == "all" or i.state == state]
    wanted = [p.strip().lower() for p in call.arg("labels").split(",") if p.strip()]
    if wanted:
        items = [i for i in items if set(wanted) <= {n.lower() for n in i.labels}]
    milestone = call.arg("milestone")
    if milestone == "*":
        items = [i for i in items if i.milestone is not None]
    elif milestone == "none":
        items = [i for i in items if i.milestone is None]
    elif milestone:
        if not milestone.isdigit():
            raise invalid("Issue", "milestone")
        items = [i for i in items if i.milestone == int(milestone)]
    creator = call.arg("creator").lower()
    if creator:
        items = [i for i in items if i.user.lower() == creator]
    assignee = call.arg("assignee")
    if assignee and assignee != "none":
        items = []  # the sandbox assigns no one
    since = call.arg("since")
    if since:
        floor = _parse_time(since, "since")
        items = [i for i in items if _stamp_time(i.updated_at) >= floor]
    key = {"created": lambda i: (i.created_at, i.number), "updated": lambda i: (i.updated_at, i.number),
           "comments": lambda i: (i.comments, i.number)}[sort]
    items.sort(key=key, reverse=direction == "desc")
    return reply([_issue_json(call, repo, i) for i in call.page(items)])


def get_issue(call: Call, owner: str, name: str, number: str) -> Response:
    repo, _role = call.repo(owner, name)
    item = repo.issues.get(int(number))
    if item is None:
        raise not_found()
    if not repo.has_issues and not item.pull_request:
        raise HttpError(410, "Issues are disabled for this repo")
    return reply(_issue_json(call, repo, item))


def _title(body: dict[str, Any], required: bool) -> str | None:
    if "title" not in body and not required:
        return None
    title = body.get("title")
    if isinstance(title, int) and not isinstance(title, bool):
        title = str(title)
    if title is None or (isinstance(title, str) and not title.strip()):
        raise invalid("Issue", "title", "missing_field")
    if not isinstance(title, str):
        raise invalid("Issue", "title")
    if len(title) > TITLE_MAX:
        raise invalid("Issue", "title", "custom", f"title is too long (maximum is {TITLE_MAX} characters)")
    return title


def _label_names(raw: Any, resource: str = "Issue") -> list[str]:
    if not isinstance(raw, list):
        raise invalid(resource, "labels")
    names: list[str] = []
    for item in raw:
        name = item.get("name") if isinstance(item, dict) else item
        if not isinstance(name, str) or not name.strip():
            raise invalid(resource, "labels")
        if name.strip().lower() not in {n.lower() for n in names}:
            names.append(name.strip())
    return names


def _ensure_labels(call: Call, repo: Repo, names: list[str]) -> list[str]:
    """Label names as stored; labels that do not exist yet are created, as GitHub does."""
    out = []
    for name in names:
        lab = repo.label(name)
        if lab is None:
            lab = Label(call.world.new_id(), name)
            repo.labels[name.lower()] = lab
        out.append(lab.name)
    return out


def _milestone(repo: Repo, raw: Any) -> int | None:
    if raw is None:
        return None
    if isinstance(raw, str) and raw.isdigit():
        raw = int(raw)
    if not isinstance(raw, int) or isinstance(raw, bool) or raw not in repo.milestones:
        raise invalid("Issue", "milestone")
    return raw


def create_issue(call: Call, owner: str, name: str) -> Response:
    repo, role = call.repo(owner, name)
    call.writable(repo)
    if not repo.has_issues:
        raise HttpError(410, "Issues are disabled for this repo")
    body = call.json_object()
    title = _title(body, required=True)
    assert title is not None
    text = body.get("body")
    if text is not None and not isinstance(text, str):
        raise invalid("Issue", "body")
    push = at_least(role, "write")
    labels = _label_names(body.get("labels") or [])
    milestone = _milestone(repo, body.get("milestone"))
    assert call.login is not None
    item = add_issue(call.world, repo, title, call.login, datetime.now(UTC), body=text,
                     labels=_ensure_labels(call, repo, labels) if push else [],
                     milestone=milestone if push else None)
    data = _issue_json(call, repo, item)
    return reply(data, 201, {"Location": data["url"]})


def update_issue(call: Call, owner: str, name: str, number: str) -> Response:
    repo, role = call.repo(owner, name)
    item = repo.issues.get(int(number))
    if item is None:
        raise not_found()
    call.writable(repo)
    if not repo.has_issues and not item.pull_request:
        raise HttpError(410, "Issues are disabled for this repo")
    assert call.login is not None
    if not at_least(role, "triage") and item.user.lower() != call.login.lower():
        raise HttpError(403, "Must have admin rights to Repository.")
    body = call.json_object()
    title = _title(body, required=False)
    text = body.get("body", item.body)
    if text is not None and not isinstance(text, str):
        raise invalid("Issue", "body")
    state = body.get("state", item.state)
    if state not in ("open", "closed"):
        raise invalid("Issue", "state")
    reason = body.get("state_reason")
    if reason is not None and reason not in STATE_REASONS:
        raise invalid("Issue", "state_reason")
    push = at_least(role, "write")
    labels = _label_names(body["labels"]) if "labels" in body and body["labels"] is not None else None
    milestone = _milestone(repo, body["milestone"]) if "milestone" in body else item.milestone
    if title is not None:
        item.title = title
    item.body = text
    if state != item.state:
        item.state = state
        if state == "closed":
            item.closed_at, item.closed_by = now_iso(), call.login
            item.state_reason = reason if reason in ("completed", "not_planned", "duplicate") else "completed"
        else:
            item.closed_at = item.closed_by = None
            item.state_reason = "reopened"
    if push:
        if labels is not None:
            item.labels = _ensure_labels(call, repo, labels)
        item.milestone = milestone
    item.updated_at = now_iso()
    return reply(_issue_json(call, repo, item))


def issue_labels(call: Call, owner: str, name: str, number: str) -> Response:
    """GET (list), POST (add) and PUT (replace) the labels of one issue."""
    repo, role = call.repo(owner, name)
    item = repo.issues.get(int(number))
    if item is None:
        raise not_found()
    method = call.request.method
    if method != "GET":
        call.writable(repo)
        if not at_least(role, "triage"):
            raise HttpError(403, "Must have push access to repository")
        body = call.json()
        raw = body.get("labels") if isinstance(body, dict) else body
        names = _ensure_labels(call, repo, _label_names(raw if raw is not None else []))
        if method == "PUT":
            item.labels = names
        else:
            item.labels += [n for n in names if n.lower() not in {x.lower() for x in item.labels}]
        item.updated_at = now_iso()
    labels = [render.label(lab, repo, call.api) for n in item.labels if (lab := repo.label(n)) is not None]
    return reply(labels)
