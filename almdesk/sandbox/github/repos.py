"""Non-issue endpoints of the GitHub sandbox: root, meta, rate limit, users, repositories, labels, milestones."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from werkzeug.wrappers import Response

from almdesk.sandbox.github import render
from almdesk.sandbox.github.http import Call, HttpError, invalid, not_found, reply
from almdesk.sandbox.github.limits import RateLimits
from almdesk.sandbox.github.model import Label, Milestone, at_least, now_iso

ENTERPRISE_VERSION = "3.11.4"
COLOR_RE = re.compile(r"^[0-9a-fA-F]{6}$")


def root(call: Call) -> Response:
    return reply(render.root(call.api))


def meta(call: Call, enterprise: bool) -> Response:
    body: dict[str, Any] = {"verifiable_password_authentication": False,
                            "api": ["127.0.0.1/32"], "git": ["127.0.0.1/32"], "web": ["127.0.0.1/32"]}
    if enterprise:
        body["installed_version"] = ENTERPRISE_VERSION
    return reply(body)


def rate_limit(call: Call, limits: RateLimits, key: str) -> Response:
    budget = limits.peek(key, call.token is not None)
    core = {"limit": budget.limit, "remaining": max(0, budget.limit - budget.used), "reset": budget.reset,
            "used": budget.used}
    found = limits.peek(key, call.token is not None, "search")
    search = {"limit": found.limit, "remaining": max(0, found.limit - found.used), "reset": found.reset,
              "used": found.used}
    return reply({"resources": {"core": core, "search": search}, "rate": core})


def current_user(call: Call) -> Response:
    if call.token is None:
        raise HttpError(401, "Requires authentication")
    user = call.world.user(call.token.login)
    if user is None:
        raise HttpError(401, "Bad credentials")
    return reply(render.private_user(user, call.world, call.api, call.web))


def user(call: Call, login: str) -> Response:
    found = call.world.user(login)
    if found is None:
        raise not_found()
    return reply(render.public_user(found, call.world, call.api, call.web))


def user_repos(call: Call) -> Response:
    if call.token is None:
        raise HttpError(401, "Requires authentication")
    visibility = call.arg("visibility", "all")
    if visibility not in ("all", "public", "private"):
        raise invalid("Repository", "visibility")
    me = call.token.login.lower()
    repos = []
    for repo in sorted(call.world.repos.values(), key=lambda r: r.full_name.lower()):
        role = call.world.role(repo, call.token)
        member = me in repo.collaborators or repo.owner.lower() == me
        if role is None or not member:
            continue
        if visibility != "all" and (visibility == "private") != repo.private:
            continue
        repos.append((repo, role))
    page = call.page(repos)
    return reply([render.repository(r, call.world, role, call.api, call.web, full=False) for r, role in page])


def repository(call: Call, owner: str, name: str) -> Response:
    repo, role = call.repo(owner, name)
    return reply(render.repository(repo, call.world, role, call.api, call.web, full=True))


def labels(call: Call, owner: str, name: str) -> Response:
    repo, role = call.repo(owner, name)
    if call.request.method == "GET":
        items = sorted(repo.labels.values(), key=lambda lab: lab.name.lower())
        return reply([render.label(lab, repo, call.api) for lab in call.page(items)])
    call.writable(repo)
    if not at_least(role, "write"):
        raise HttpError(403, "Must have push access to repository")
    body = call.json_object()
    label_name = body.get("name")
    if not isinstance(label_name, str) or not label_name.strip():
        raise invalid("Label", "name", "missing_field")
    if repo.label(label_name) is not None:
        raise invalid("Label", "name", "already_exists")
    color = str(body.get("color") or "ededed").lstrip("#")
    if not COLOR_RE.match(color):
        raise invalid("Label", "color")
    description = body.get("description")
    if description is not None and (not isinstance(description, str) or len(description) > 100):
        raise invalid("Label", "description")
    lab = Label(call.world.new_id(), label_name.strip(), color.lower(), description)
    repo.labels[lab.name.lower()] = lab
    data = render.label(lab, repo, call.api)
    return reply(data, 201, {"Location": data["url"]})


def label(call: Call, owner: str, name: str, label_name: str) -> Response:
    repo, _role = call.repo(owner, name)
    lab = repo.label(unquote(label_name))
    if lab is None:
        raise not_found()
    return reply(render.label(lab, repo, call.api))


def milestones(call: Call, owner: str, name: str) -> Response:
    repo, role = call.repo(owner, name)
    if call.request.method == "GET":
        state = call.arg("state", "open")
        if state not in ("open", "closed", "all"):
            raise invalid("Milestone", "state")
        items = [m for m in repo.milestones.values() if state == "all" or m.state == state]
        items.sort(key=lambda m: (m.due_on or "9999", m.number), reverse=call.arg("direction", "asc") == "desc")
        return reply([render.milestone(m, repo, call.world, call.api, call.web, call.memo) for m in call.page(items)])
    call.writable(repo)
    if not at_least(role, "write"):
        raise HttpError(403, "Must have push access to repository")
    body = call.json_object()
    title = body.get("title")
    if not isinstance(title, str) or not title.strip():
        raise invalid("Milestone", "title", "missing_field")
    if any(m.title == title for m in repo.milestones.values()):
        raise invalid("Milestone", "title", "already_exists")
    state = body.get("state", "open")
    if state not in ("open", "closed"):
        raise invalid("Milestone", "state")
    number = max(repo.milestones, default=0) + 1
    stamp = now_iso()
    assert call.login is not None
    ms = Milestone(call.world.new_id(), number, title, call.login, state, body.get("description"),
                   body.get("due_on"), stamp, stamp, stamp if state == "closed" else None)
    repo.milestones[number] = ms
    data = render.milestone(ms, repo, call.world, call.api, call.web)
    return reply(data, 201, {"Location": data["url"]})


def milestone(call: Call, owner: str, name: str, number: str) -> Response:
    repo, _role = call.repo(owner, name)
    ms = repo.milestones.get(int(number))
    if ms is None:
        raise not_found()
    return reply(render.milestone(ms, repo, call.world, call.api, call.web))


def web_page(call: Call, owner: str, name: str, kind: str, number: str) -> Response:
    """A minimal browser page for an issue's ``html_url`` (so links from the app open something)."""
    repo = call.world.repo(owner, name)
    item = repo.issues.get(int(number)) if repo else None
    if repo is None or item is None:
        return Response("<h1>404</h1>", status=404, content_type="text/html; charset=utf-8")
    from html import escape

    labels = ", ".join(escape(n) for n in item.labels)
    page = (f"<!doctype html><title>{escape(item.title)} · {escape(repo.full_name)}</title>"
            f"<h1>{escape(item.title)} <small>#{item.number}</small></h1>"
            f"<p>{escape(item.state)} · opened {escape(item.created_at)} by {escape(item.user)}"
            f" · labels: {labels or 'none'}</p><pre>{escape(item.body or '')}</pre>"
            f"<p><em>almdesk GitHub sandbox ({escape(kind)}), {datetime.now(UTC):%Y-%m-%d %H:%M} UTC</em></p>")
    return Response(page, content_type="text/html; charset=utf-8")
