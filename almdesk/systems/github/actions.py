"""Create Defect (an issue labelled ``bug``) and the release gate (count of open issues) for GitHub.

Gate semantics: open issues of the repository (pull requests left out) in the milestone named by
``release`` (if given), carrying **all** of ``labels``, **any** of ``severities`` (labels) and **any**
of ``phases`` (labels). Every label named must exist in the repository, so a typo fails instead of
silently counting nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from almdesk.errors import ConfigError
from almdesk.jobs.context import JobContext
from almdesk.net.session import HttpFactory
from almdesk.systems.base import (
    ConnectionSettings,
    CreatedItem,
    DefectRequest,
    GateItem,
    GateRequest,
    GateResult,
    normalize_operator,
)
from almdesk.systems.github.client import GitHubClient
from almdesk.systems.github.fields import Target, target_of
from almdesk.systems.github.issues import Issues, check_writable, issue_body
from almdesk.systems.github.repo import fetch_repo, find_milestone, label_names, listing

DEFECT_LABEL = "bug"
TITLE_MAX = 256


@contextmanager
def _inputs(workspace: str) -> Iterator[None]:
    """Point errors about the repository at the Workspace input when the request named one."""
    try:
        yield
    except ConfigError as exc:
        if workspace.strip() and exc.field in ("alm_project", "github_repo_owner"):
            exc.field = "workspace"
        raise


def _client(connection: ConnectionSettings, http: HttpFactory, ctx: JobContext) -> GitHubClient:
    return GitHubClient(connection.connector, http, log=lambda m: ctx.log(m, "warning"), sleep=ctx.sleep)


def create_defect(connection: ConnectionSettings, request: DefectRequest, http: HttpFactory,
                  ctx: JobContext) -> CreatedItem:
    title = " ".join(request.name.split())
    if not title:
        raise ConfigError("The defect needs a name.", "Enter a name; it becomes the issue's title.", field="name")
    if len(title) > TITLE_MAX:
        raise ConfigError(f"The name is {len(title)} characters long; GitHub allows {TITLE_MAX}.",
                          "Shorten the name; put details in the description.", field="name")
    with _inputs(request.workspace):
        target = target_of(connection, request.workspace)
    client = _client(connection, http, ctx)
    try:
        with _inputs(request.workspace):
            repo = fetch_repo(client, target)
            check_writable(repo)
        release = request.release.strip()
        if release:
            milestone: int | None = find_milestone(client, target, release, "release")[0]
        else:
            milestone = find_milestone(client, target, target.milestone)[0] if target.milestone else None
        labels = [DEFECT_LABEL] + [v.strip() for v in (request.severity, request.phase) if v.strip()]
        body = issue_body(request.description, repo, target, "Created by almdesk (Create Defect).")
        if not repo.private and not target.public_content and request.description.strip():
            ctx.log(f"{repo.full_name} is public: the description was not sent (only the title and a note).")
        data = Issues(client, target).create(title, body, labels, milestone)
    finally:
        client.close()
    number = str(data["number"])
    ctx.log(f"Created issue #{number} in {target.full_name}: {data.get('html_url', '')}")
    return CreatedItem(id=number, key=f"#{number}", url=str(data.get("html_url") or ""), title=title)


def _check_labels(names: list[str], known: dict[str, str], target: Target, what: str, fld: str) -> list[str]:
    """The labels as the repository spells them; unknown ones raise, listing the repository's labels."""
    unknown = [n for n in names if n.lower() not in known]
    if unknown:
        raise ConfigError(f"{what} {', '.join(repr(u) for u in unknown)} "
                          f"{'is not a label' if len(unknown) == 1 else 'are not labels'} of {target.full_name}.",
                          f"Labels of {target.full_name}: {listing(sorted(known.values(), key=str.lower))}.",
                          field=fld)
    return [known[n.lower()] for n in names]


def gate(connection: ConnectionSettings, request: GateRequest, http: HttpFactory, ctx: JobContext) -> GateResult:
    operator = normalize_operator(request.operator)
    with _inputs(request.workspace):
        target = target_of(connection, request.workspace)
    before = http.requests
    client = _client(connection, http, ctx)
    try:
        with _inputs(request.workspace):
            fetch_repo(client, target)
        wanted = [v.strip() for v in (*request.labels, *request.severities, *request.phases) if v.strip()]
        known = {n.lower(): n for n in label_names(client, target)} if wanted else {}
        all_of = _check_labels([v for v in request.labels if v.strip()], known, target, "Label", "labels")
        severities = _check_labels([v for v in request.severities if v.strip()], known, target, "Severity",
                                   "severities")
        phases = _check_labels([v for v in request.phases if v.strip()], known, target, "Phase", "phases")
        params: dict[str, str] = {"state": "open", "sort": "created", "direction": "asc"}
        if all_of:
            params["labels"] = ",".join(all_of)
        release = request.release.strip()
        if release:
            params["milestone"] = str(find_milestone(client, target, release, "release")[0])
        matched: list[GateItem] = []
        for page in Issues(client, target).pages(params, f"counting open issues in {target.full_name}"):
            for item in page:
                names = {str(lab.get("name", "")).lower() for lab in item.get("labels", []) if isinstance(lab, dict)}
                if severities and not names & {s.lower() for s in severities}:
                    continue
                if phases and not names & {p.lower() for p in phases}:
                    continue
                matched.append(GateItem(id=str(item["number"]), key=f"#{item['number']}",
                                        title=str(item.get("title") or ""), url=str(item.get("html_url") or ""),
                                        status=str(item.get("state") or "open")))
    finally:
        client.close()
    parts = [f"open issues in {target.full_name}"]
    if release:
        parts.append(f"milestone {release!r}")
    if all_of:
        parts.append(f"labels {' and '.join(all_of)}")
    if severities:
        parts.append(f"severity {' or '.join(severities)}")
    if phases:
        parts.append(f"phase {' or '.join(phases)}")
    query = parts[0] + (" with " + ", ".join(parts[1:]) if len(parts) > 1 else "")
    ctx.log(f"Gate query: {query}: {len(matched)} found.")
    return GateResult(count=len(matched), threshold=request.threshold, operator=operator, query=query,
                      requests=http.requests - before,
                      items=lambda offset, limit: matched[offset:offset + limit])

