"""Create Defect (an issue labelled ``bug``) and the release gate (count of open issues) for GitHub.

Gate semantics: open issues of the repository (pull requests left out) in the milestone named by
``release`` (if given), carrying **all** of ``labels``, **any** of ``severities`` (labels) and **any**
of ``phases`` (labels). Every label named must exist in the repository, so a typo fails instead of
silently counting nothing. After those look-ups the gate counts with **one** search request
(:mod:`.search`); where search cannot answer exactly it lists the open issues instead and says why.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from typing import Any

from almdesk.base.records import (
    CreatedItem,
    DefectRequest,
    GateItem,
    GateRequest,
    GateResult,
    normalize_operator,
)
from almdesk.base.settings import ConnectionSettings
from almdesk.errors import ConfigError
from almdesk.jobs.context import JobContext
from almdesk.net.session import HttpFactory
from almdesk.systems.github.client import GitHubClient
from almdesk.systems.github.fields import Target, target_of
from almdesk.systems.github.issues import Issues, check_writable, issue_body
from almdesk.systems.github.repo import fetch_repo, find_milestone, label_names, listing, milestone_named
from almdesk.systems.github.search import SEARCH_WINDOW, SearchRefused, issue_query, search_issues

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


def _gate_item(item: dict[str, Any]) -> GateItem:
    return GateItem(id=str(item["number"]), key=f"#{item['number']}", title=str(item.get("title") or ""),
                    url=str(item.get("html_url") or ""), status=str(item.get("state") or "open"))


@dataclass(frozen=True)
class _Filter:
    """What the gate counts, for listing (the fallback) and describing."""

    target: Target
    milestone: int | None
    all_of: list[str]
    severities: list[str]
    phases: list[str]

    def listed(self, client: GitHubClient) -> Iterator[GateItem]:
        """Matching issues, oldest first, by listing open issues and filtering the any-of labels here."""
        params: dict[str, str] = {"state": "open", "sort": "created", "direction": "asc"}
        if self.all_of:
            params["labels"] = ",".join(self.all_of)
        if self.milestone is not None:
            params["milestone"] = str(self.milestone)
        severities = {s.lower() for s in self.severities}
        phases = {p.lower() for p in self.phases}
        for page in Issues(client, self.target).pages(params, f"counting open issues in {self.target.full_name}"):
            for item in page:
                names = {str(lab.get("name", "")).lower() for lab in item.get("labels", []) if isinstance(lab, dict)}
                if (severities and not names & severities) or (phases and not names & phases):
                    continue
                yield _gate_item(item)


def _search_count(client: GitHubClient, query: str | None, target: Target, ctx: JobContext) -> int | None:
    """The count from one search request, or None when the gate must list instead (said in the log)."""
    if query is None:
        ctx.log("A label or milestone name contains a double quote or a backslash, which GitHub's search syntax "
                "cannot express exactly; counting by listing the open issues instead.", "warning")
        return None
    what = f"counting open issues in {target.full_name} (search)"
    try:
        page = search_issues(client, query, what=what)
    except SearchRefused as exc:
        ctx.log(f"{exc.message} Counting by listing the open issues instead.", "warning")
        return None
    if page.incomplete:
        ctx.log(f"GitHub's search timed out before it had counted every issue (incomplete_results: true, "
                f"{page.total} so far); counting by listing the open issues instead.", "warning")
        return None
    ctx.log(f"Counted {page.total} issue(s) with one search request: q={query}")
    return page.total


def gate(connection: ConnectionSettings, request: GateRequest, http: HttpFactory, ctx: JobContext) -> GateResult:
    """Count with one ``/search/issues`` request after the look-ups (repository, labels, milestone)."""
    operator = normalize_operator(request.operator)
    with _inputs(request.workspace):
        target = target_of(connection, request.workspace)
    before = http.requests
    client = _client(connection, http, ctx)
    try:
        with _inputs(request.workspace):
            repo = fetch_repo(client, target)
        wanted = [v.strip() for v in (*request.labels, *request.severities, *request.phases) if v.strip()]
        known = {n.lower(): n for n in label_names(client, target)} if wanted else {}
        all_of = _check_labels([v.strip() for v in request.labels if v.strip()], known, target, "Label", "labels")
        severities = _check_labels([v.strip() for v in request.severities if v.strip()], known, target, "Severity",
                                   "severities")
        phases = _check_labels([v.strip() for v in request.phases if v.strip()], known, target, "Phase", "phases")
        release = request.release.strip()
        milestone = milestone_named(client, target, release, "release") if release else None
        title = str(milestone.get("title") or release) if milestone else ""
        flt = _Filter(target, int(milestone["number"]) if milestone else None, all_of, severities, phases)
        # the repository's name as GitHub gives it now: search does not follow a renamed repository's old name
        query = issue_query(repo.full_name, milestone=title, all_of=all_of,
                            any_of=[g for g in (severities, phases) if g])
        count = _search_count(client, query, target, ctx)
        matched = list(flt.listed(client)) if count is None else None
    finally:
        client.close()
    requests_used = http.requests - before
    if matched is not None:
        count = len(matched)
    assert count is not None
    parts = [f"open issues in {target.full_name}"]
    if release:
        parts.append(f"milestone {title!r}")
    if all_of:
        parts.append(f"labels {' and '.join(all_of)}")
    if severities:
        parts.append(f"severity {' or '.join(severities)}")
    if phases:
        parts.append(f"phase {' or '.join(phases)}")
    described = parts[0] + (" with " + ", ".join(parts[1:]) if len(parts) > 1 else "")
    ctx.log(f"Gate query: {described}: {count} found.")

    def items(offset: int, limit: int) -> list[GateItem]:
        if matched is not None:
            return matched[offset:offset + limit]
        pager = _client(connection, http, ctx)
        try:
            return _items(pager, flt, query, offset, limit)
        finally:
            pager.close()

    return GateResult(count=count, threshold=request.threshold, operator=operator, query=described,
                      requests=requests_used, items=items)


def _items(client: GitHubClient, flt: _Filter, query: str | None, offset: int, limit: int) -> list[GateItem]:
    """Matching issues ``offset`` to ``offset + limit``, oldest first: by search within GitHub's first 1,000
    results (one request for an aligned page of up to 100), else by listing."""
    if limit <= 0:
        return []
    if query is not None and offset + limit <= SEARCH_WINDOW:
        what = f"reading the matching issues of {flt.target.full_name}"
        size = limit if limit <= 100 and offset % limit == 0 else 100
        out: list[GateItem] = []
        number = offset // size + 1
        skip = offset - (number - 1) * size
        while len(out) < limit:
            try:
                page = search_issues(client, query, what=what, per_page=size, page=number, sort="created",
                                     order="asc")
            except SearchRefused:
                break
            out += [_gate_item(i) for i in page.items[skip:]]
            if len(page.items) < size:
                return out[:limit]
            number, skip = number + 1, 0
        else:
            return out[:limit]
    return list(islice(flt.listed(client), offset, offset + limit))
