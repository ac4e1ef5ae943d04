"""``GET /search/issues`` of the GitHub sandbox: the ``q`` qualifiers almdesk needs, counted like GitHub.

Understood: ``repo:OWNER/NAME`` (several are OR; none: every repository the caller can see),
``is:issue``/``is:pr``/``is:pull-request``/``type:issue``/``type:pr``, ``is:open``/``is:closed``/
``state:open``/``state:closed``, ``milestone:TITLE``, ``in:title``/``in:body`` (where the words are looked
for; ``in:comments`` is accepted and matches nothing, the sandbox keeps no comment text), ``label:NAME`` (separate qualifiers AND, the
comma form ``label:"a","b"`` OR), ``-label:``/``-milestone:`` to exclude, ``no:label``/``no:milestone``,
and free words or ``"quoted phrases"`` matched in titles and bodies. Values may be double-quoted (then
spaces, colons and commas are part of the value). Any other qualifier answers 422 (the sandbox does not
pretend to search what it does not model); so does a repository the caller cannot see, with GitHub's
message.

The answer is ``{"total_count", "incomplete_results", "items"}``; ``per_page`` (≤ 100) and ``page`` page
the items, and only the first 1,000 results can be paged (422 beyond, as GitHub). Setting
:attr:`World.search_scan_limit` (``app.world``) makes every search stop after that many issues, like a GitHub
search that timed out: ``incomplete_results: true`` and a partial ``total_count``.

Counting filters the issues one qualifier at a time (a comprehension each), each issue's lower-case label
set cached beside a copy of its label list (so edits are seen); only the page asked for is picked in order
(``heapq``), not the whole result sorted.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from werkzeug.wrappers import Response

from almdesk.sandbox.github import render
from almdesk.sandbox.github.http import Call, HttpError, reply
from almdesk.sandbox.github.model import Issue, Repo

SEARCH_WINDOW = 1000
SORTS = ("comments", "reactions", "reactions-+1", "reactions--1", "reactions-smile", "reactions-thinking_face",
         "reactions-heart", "reactions-tada", "interactions", "created", "updated")
NOT_SEARCHABLE = ("The listed users and repositories cannot be searched either because the resources do not exist "
                  "or you do not have permission to view them.")
SEARCH_ONLY_KEYS = ("closed_by",)  # issue fields a search result item does not carry


def search_error(message: str, code: str = "invalid") -> HttpError:
    body = render.error("Validation Failed", errors=[{"message": message, "resource": "Search", "field": "q",
                                                      "code": code}])
    return HttpError(422, "Validation Failed", body)


@dataclass
class Term:
    """One whitespace-separated part of ``q``: a qualifier with its values, or free text."""

    name: str  # lower-case qualifier name; "" for free text
    values: list[str]
    negated: bool = False


def tokenize(q: str) -> list[Term]:
    """Split ``q`` into terms. ``name:v1,"v 2"`` gives one term with two values; quotes keep spaces."""
    terms: list[Term] = []
    i, n = 0, len(q)
    while i < n:
        if q[i].isspace():
            i += 1
            continue
        negated = q[i] == "-" and i + 1 < n and not q[i + 1].isspace()
        if negated:
            i += 1
        if q[i] == '"':
            end = q.find('"', i + 1)
            end = n if end < 0 else end
            terms.append(Term("", [q[i + 1:end]], negated))
            i = end + 1
            continue
        start = i
        while i < n and not q[i].isspace() and q[i] not in ':"':
            i += 1
        if i < n and q[i] == ":" and i > start:
            name = q[start:i].lower()
            i += 1
            values: list[str] = []
            while True:
                if i < n and q[i] == '"':
                    end = q.find('"', i + 1)
                    end = n if end < 0 else end
                    values.append(q[i + 1:end])
                    i = end + 1
                else:
                    start = i
                    while i < n and not q[i].isspace() and q[i] != ",":
                        i += 1
                    values.append(q[start:i])
                if i < n and q[i] == ",":
                    i += 1
                    continue
                break
            while i < n and not q[i].isspace():  # stray characters after a closing quote: part of the term
                i += 1
            terms.append(Term(name, values, negated))
        else:
            while i < n and not q[i].isspace():
                i += 1
            terms.append(Term("", [q[start:i]], negated))
    return terms


@dataclass
class Query:
    """The parsed ``q``: a predicate over (repository, issue) and the repositories it names."""

    repos: list[str] = field(default_factory=list)
    kind: str = ""  # "" both | issue | pr
    state: str = ""  # "" both | open | closed
    label_groups: list[set[str]] = field(default_factory=list)  # each: at least one of (lower-case)
    excluded_labels: set[str] = field(default_factory=set)
    milestones: list[set[str]] = field(default_factory=list)  # each: one of these titles (lower-case)
    excluded_milestones: set[str] = field(default_factory=set)
    no_label: bool = False
    no_milestone: bool = False
    words: list[str] = field(default_factory=list)
    within: set[str] = field(default_factory=set)  # in:title / in:body (empty: title and body)


def _one(term: Term, allowed: tuple[str, ...]) -> str:
    value = term.values[0].lower() if len(term.values) == 1 else ""
    if term.negated or value not in allowed:
        raise search_error(f"The value {','.join(term.values)!r} is not valid for the {term.name!r} qualifier.")
    return value


def parse(q: str) -> Query:
    if not q.strip():
        raise search_error("A search query is required.", "missing")
    query = Query()
    for term in tokenize(q):
        values = [v for v in term.values if v]
        if term.name and not values:
            raise search_error(f"The {term.name!r} qualifier needs a value.")
        if term.name == "":
            if term.negated:
                raise search_error("Excluding words is not supported by this sandbox.")
            query.words += [w.lower() for w in term.values if w]
        elif term.name == "repo":
            if term.negated or len(values) != 1 or values[0].count("/") != 1:
                raise search_error(f"The value {','.join(values)!r} is not valid for the 'repo' qualifier.")
            query.repos.append(values[0].lower())
        elif term.name in ("is", "type", "state"):
            allowed = {"is": ("issue", "pr", "pull-request", "open", "closed"), "type": ("issue", "pr"),
                       "state": ("open", "closed")}[term.name]
            value = _one(term, allowed)
            if value in ("open", "closed"):
                query.state = value
            else:
                query.kind = "issue" if value == "issue" else "pr"
        elif term.name == "label":
            names = {v.lower() for v in values}
            if term.negated:
                query.excluded_labels |= names
            else:
                query.label_groups.append(names)
        elif term.name == "milestone":
            titles = {v.lower() for v in values}
            if term.negated:
                query.excluded_milestones |= titles
            else:
                query.milestones.append(titles)
        elif term.name == "in":
            fields = {v.lower() for v in values}
            if term.negated or not fields <= {"title", "body", "comments"}:
                raise search_error(f"The value {','.join(values)!r} is not valid for the 'in' qualifier.")
            query.within |= fields
        elif term.name == "no":
            value = _one(term, ("label", "milestone"))
            query.no_label |= value == "label"
            query.no_milestone |= value == "milestone"
        else:
            raise search_error(f"The qualifier {term.name!r} is not supported by this sandbox "
                               "(supported: repo, is, type, state, label, milestone, no, in).")
    return query


def _labels_of(item: Issue) -> frozenset[str]:
    """The issue's lower-case label names, cached while its label list stays equal to the cached copy."""
    cached = item.__dict__.get("_search_labels")
    if cached is not None and cached[0] == item.labels:
        return cached[1]  # type: ignore[no-any-return]
    names = frozenset(n.lower() for n in item.labels)
    item.__dict__["_search_labels"] = (list(item.labels), names)
    return names


def matching(query: Query, repo: Repo, issues: list[Issue]) -> list[Issue]:
    """The issues of ``repo`` (from ``issues``) that match, filter by filter (comprehensions: 100,000 issues in
    a few tens of milliseconds)."""
    by_title: dict[str, set[int]] = {}
    for ms in repo.milestones.values():
        by_title.setdefault(ms.title.lower(), set()).add(ms.number)
    if query.state:
        issues = [i for i in issues if i.state == query.state]
    if query.kind:
        pulls = query.kind == "pr"
        issues = [i for i in issues if i.pull_request is pulls]
    if not repo.has_issues:
        issues = [i for i in issues if i.pull_request]
    if query.no_milestone:
        issues = [i for i in issues if i.milestone is None]
    for titles in query.milestones:
        numbers: set[int | None] = set().union(*(by_title.get(t, set()) for t in titles))
        issues = [i for i in issues if i.milestone in numbers]
    excluded_ms: set[int | None] = set().union(*(by_title.get(t, set()) for t in query.excluded_milestones))
    if excluded_ms:
        issues = [i for i in issues if i.milestone not in excluded_ms]
    if query.label_groups or query.excluded_labels or query.no_label:
        labelled = [(i, _labels_of(i)) for i in issues]
        if query.no_label:
            labelled = [(i, names) for i, names in labelled if not names]
        for group in query.label_groups:
            labelled = [(i, names) for i, names in labelled if not names.isdisjoint(group)]
        if query.excluded_labels:
            labelled = [(i, names) for i, names in labelled if names.isdisjoint(query.excluded_labels)]
        issues = [i for i, _ in labelled]
    within = query.within or {"title", "body"}

    def text(item: Issue) -> str:
        return "\n".join(t for name, t in (("title", item.title), ("body", item.body or "")) if name in within)

    for word in query.words:
        issues = [i for i in issues if word in text(i).lower()]
    return issues


def search_issues(call: Call) -> Response:
    query = parse(call.arg("q"))
    sort = call.arg("sort")
    if sort and sort not in SORTS:
        raise HttpError(422, "Validation Failed", render.validation_error("Search", "sort", "invalid"))
    order = call.arg("order", "desc")
    if order not in ("asc", "desc"):
        raise HttpError(422, "Validation Failed", render.validation_error("Search", "order", "invalid"))
    repos: list[Repo] = []
    if query.repos:
        for full_name in query.repos:
            owner, _, name = full_name.partition("/")
            repo = call.world.repo(owner, name)
            if repo is None or call.world.role(repo, call.token) is None:
                raise search_error(NOT_SEARCHABLE)
            if repo not in repos:
                repos.append(repo)
    else:
        repos = [r for r in call.world.repos.values() if call.world.role(r, call.token) is not None]
    limit = call.world.search_scan_limit
    scanned = 0
    incomplete = False
    found: list[tuple[Repo, list[Issue]]] = []
    for repo in repos:
        issues = list(repo.issues.values())
        if limit is not None and scanned + len(issues) > limit:
            issues, incomplete = issues[:max(0, limit - scanned)], True
        scanned += len(issues)
        found.append((repo, matching(query, repo, issues)))
    total = sum(len(issues) for _, issues in found)
    per_page, number = _paging(call)
    if (number - 1) * per_page >= SEARCH_WINDOW and total > 0:
        raise search_error("Only the first 1000 search results are available", "invalid")
    if sort not in ("updated", "comments"):
        sort, order = ("created", order) if sort == "created" else ("created", "desc")  # best match: newest first
    key: Callable[[Issue], Any] = attrgetter({"created": "created_at", "updated": "updated_at",
                                              "comments": "comments"}[sort], "number")
    window = min(SEARCH_WINDOW, total)
    # only the first 1,000 can be paged: pick them without sorting everything (a count asks for one)
    wanted = min(window, number * per_page)
    pick = heapq.nlargest if order == "desc" else heapq.nsmallest
    top = pick(wanted, ((key(i), n, repo, i) for n, (repo, issues) in enumerate(found) for i in pick(wanted, issues,
                                                                                                       key=key)))
    page = call.page([(repo, i) for _, _, repo, i in top] + [None] * (window - len(top)))  # keeps Link's "last"
    items = []
    for repo, item in page:
        body = render.issue(item, repo, call.world, call.api, call.web, counts=call.memo)
        for key_name in SEARCH_ONLY_KEYS:
            body.pop(key_name, None)
        if body.get("body") is None:  # the search item's body is a non-nullable, optional string in the spec
            body.pop("body", None)
        body["score"] = 1.0
        items.append(body)
    return reply({"total_count": total, "incomplete_results": incomplete, "items": items})


def _paging(call: Call) -> tuple[int, int]:
    try:
        per_page = min(max(int(call.arg("per_page") or 30), 1), 100)
    except ValueError:
        per_page = 30
    try:
        number = max(int(call.arg("page") or 1), 1)
    except ValueError:
        number = 1
    return per_page, number
