"""GitHub's issue search (``GET /search/issues``): the gate's query builder and its one count request.

The gate counts with one search request, ``per_page=1``, reading ``total_count``:

    repo:OWNER/REPO is:issue is:open milestone:"v1.0" label:"bug" label:"severity:high","severity:medium"

* every value is double-quoted, so spaces, colons and commas inside a name stay part of it;
* separate ``label:`` qualifiers are AND, the comma form ``label:"a","b"`` is OR (GitHub's search docs:
  "To filter issues using logical OR, use the comma syntax: label:"bug","wip"" — GitHub.com, GHEC, and
  GHES since 3.3). One request is then exact even when an issue carries two severity labels, where
  summing one query per value would count it twice;
* GitHub's search syntax has no escape for a double quote inside a quoted value, so a value with ``"``
  (or a backslash or a control character) cannot be expressed exactly: :func:`issue_query` returns
  None and the gate lists the issues instead (exact, one request per 100 open issues).

The search API has its own rate limit (30 requests a minute with a token, ``x-ratelimit-resource:
search``); the client waits it out like any limited answer (see :mod:`.ratelimit`). A search that
timed out on GitHub's side answers ``incomplete_results: true`` with a partial ``total_count``: the gate
then says so and lists instead. GitHub serves at most the first 1,000 results of a search
(:data:`SEARCH_WINDOW`). GitHub's search index trails writes (usually by seconds): an issue opened or
relabelled just before the gate may not be counted yet; a gate run from CI right after filing defects
should allow for that.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from almdesk.errors import RemoteError
from almdesk.net.bodies import json_body
from almdesk.systems.github.client import GitHubClient
from almdesk.systems.github.errors import error_for

SEARCH_PATH = "/search/issues"
SEARCH_WINDOW = 1000  # GitHub returns only the first 1,000 results of any search
FALLBACK_STATUSES = (404, 422)  # search turned off (some Enterprise servers) or a query it refuses


def quote_value(value: str) -> str | None:
    """``value`` as a quoted search value, or None when the search syntax cannot express it exactly."""
    if not value or '"' in value or "\\" in value or any(ord(c) < 32 or ord(c) == 127 for c in value):
        return None
    return f'"{value}"'


def issue_query(full_name: str, *, milestone: str = "", all_of: Sequence[str] = (),
                any_of: Sequence[Sequence[str]] = ()) -> str | None:
    """The ``q`` of open issues of ``full_name`` in ``milestone`` with every label of ``all_of`` and, for each
    group of ``any_of``, at least one of its labels. None when a value cannot be quoted (see the module)."""
    parts = [f"repo:{full_name}", "is:issue", "is:open"]
    if milestone:
        quoted = quote_value(milestone)
        if quoted is None:
            return None
        parts.append(f"milestone:{quoted}")
    for name in all_of:
        quoted = quote_value(name)
        if quoted is None:
            return None
        parts.append(f"label:{quoted}")
    for group in any_of:
        values = [quote_value(name) for name in group]
        if not values:
            continue
        if any(v is None for v in values):
            return None
        parts.append("label:" + ",".join(v for v in values if v is not None))
    return " ".join(parts)


@dataclass(frozen=True)
class SearchPage:
    total: int
    incomplete: bool
    items: list[dict[str, Any]]


class SearchRefused(RemoteError):
    """The server has no issue search or refused the query (404/422): the caller may list instead."""


def search_issues(client: GitHubClient, query: str, *, what: str, per_page: int = 1, page: int = 1,
                  sort: str = "", order: str = "") -> SearchPage:
    """One page of an issue search. Raises :class:`SearchRefused` on 404/422, the mapped error otherwise."""
    params: dict[str, Any] = {"q": query, "per_page": per_page}
    if page > 1:
        params["page"] = page
    if sort:
        params["sort"] = sort
        params["order"] = order or "desc"
    response = client.request("GET", SEARCH_PATH, what=what, params=params)
    if response.status_code in FALLBACK_STATUSES:
        error = error_for(response, what)
        raise SearchRefused(error.message, error.hint)
    if response.status_code != 200:
        raise error_for(response, what)
    data = json_body(response, client.server)
    total = data.get("total_count") if isinstance(data, dict) else None
    items = data.get("items") if isinstance(data, dict) else None
    if not isinstance(total, int) or isinstance(total, bool) or total < 0 or not isinstance(items, list):
        raise RemoteError(f"{client.server} sent an unexpected reply while {what}.",
                          "Check that the API URL points at GitHub's REST API.")
    return SearchPage(total, bool(data.get("incomplete_results")), [i for i in items if isinstance(i, dict)])
