"""Cloud search paging with the sandbox's per-chain result cache: one evaluation per token chain, tokens
that stay valid and consistent while issues change, and per-user / per-query chains."""

from __future__ import annotations

from typing import Any

import requests

from almdesk.sandbox.base import SandboxServer
from almdesk.sandbox.jira.model import SearchChains
from tests.jira.conftest import app_of
from tests.jira.test_jira_sandbox import session_for

JQL = "project = DEMO ORDER BY key ASC"


def _page(s: requests.Session, server: SandboxServer, token: str | None = None, *, jql: str = JQL,
          size: int = 5, fields: tuple[str, ...] = ("summary",)) -> dict[str, Any]:
    body: dict[str, Any] = {"jql": jql, "maxResults": size, "fields": list(fields)}
    if token:
        body["nextPageToken"] = token
    response = s.post(f"{server.url}/rest/api/3/search/jql", json=body, timeout=5)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


def _walk(s: requests.Session, server: SandboxServer, **kw: Any) -> tuple[list[str], int]:
    keys: list[str] = []
    token = None
    pages = 0
    while True:
        page = _page(s, server, token, **kw)
        pages += 1
        keys += [i["key"] for i in page["issues"]]
        if page["isLast"]:
            assert "nextPageToken" not in page
            return keys, pages
        token = page["nextPageToken"]


def _create(s: requests.Session, server: SandboxServer, summary: str) -> str:
    response = s.post(f"{server.url}/rest/api/3/issue", timeout=5, json={"fields": {
        "project": {"key": "DEMO"}, "issuetype": {"name": "Bug"}, "summary": summary}})
    assert response.status_code == 201, response.text
    return str(response.json()["key"])


def test_a_chain_evaluates_its_query_once(cloud: SandboxServer) -> None:
    s = session_for(cloud)
    chains = app_of(cloud).data.search_chains
    before = chains.evaluations
    keys, pages = _walk(s, cloud, size=5)
    assert pages == 3 and keys == [f"DEMO-{n}" for n in range(1, 16)]
    assert chains.evaluations - before == 1  # the first page evaluated the JQL; the next two read the chain


def test_a_chain_stays_consistent_while_issues_are_created_and_edited(cloud: SandboxServer) -> None:
    s = session_for(cloud)
    first = _page(s, cloud, jql="project = DEMO ORDER BY key DESC", size=5)
    seen = [i["key"] for i in first["issues"]]
    assert seen[0] == "DEMO-15"
    new_key = _create(s, cloud, "made between two pages")  # sorts first: a re-evaluation would shift the pages
    s.put(f"{cloud.url}/rest/api/3/issue/DEMO-3", json={"fields": {"summary": "renamed between pages"}},
          timeout=5).raise_for_status()
    token = first["nextPageToken"]
    rest: list[dict[str, Any]] = []
    while token:
        page = _page(s, cloud, token, jql="project = DEMO ORDER BY key DESC", size=5)
        rest += page["issues"]
        token = page.get("nextPageToken")
    keys = seen + [i["key"] for i in rest]
    assert keys == [f"DEMO-{n}" for n in range(15, 0, -1)]  # no duplicate, none skipped, the new one not in
    assert new_key not in keys
    renamed = next(i for i in rest if i["key"] == "DEMO-3")
    assert renamed["fields"]["summary"] == "renamed between pages"  # pages render the issues as they are now
    again, _ = _walk(s, cloud, jql="project = DEMO ORDER BY key DESC", size=5)
    assert again[0] == new_key  # a new search sees the new issue


def test_a_token_stays_valid_after_its_chain_is_evicted(cloud: SandboxServer) -> None:
    s = session_for(cloud)
    chains = app_of(cloud).data.search_chains
    first = _page(s, cloud, size=4)
    for n in range(chains.size + 1):  # push the chain out with other searches
        _page(s, cloud, jql=f"project = DEMO AND summary !~ evicted{n} ORDER BY key ASC", size=1)
    before = chains.evaluations
    second = _page(s, cloud, first["nextPageToken"], size=4)
    assert [i["key"] for i in second["issues"]] == ["DEMO-5", "DEMO-6", "DEMO-7", "DEMO-8"]
    assert chains.evaluations == before + 1  # evaluated again, page taken at the token's offset
    third = _page(s, cloud, second["nextPageToken"], size=4)
    assert [i["key"] for i in third["issues"]] == ["DEMO-9", "DEMO-10", "DEMO-11", "DEMO-12"]
    last = _page(s, cloud, third["nextPageToken"], size=4)
    assert [i["key"] for i in last["issues"]] == ["DEMO-13", "DEMO-14", "DEMO-15"]
    assert last["isLast"] and chains.evaluations == before + 1


def test_a_token_is_tied_to_its_query_and_page_size(cloud: SandboxServer) -> None:
    s = session_for(cloud)
    token = _page(s, cloud, size=5)["nextPageToken"]
    for body in ({"jql": "project = DEMO ORDER BY key DESC", "maxResults": 5},
                 {"jql": JQL, "maxResults": 6}, {"jql": JQL, "maxResults": 5, "fields": ["status"]}):
        body = {"fields": ["summary"], **body, "nextPageToken": token}
        response = s.post(f"{cloud.url}/rest/api/3/search/jql", json=body, timeout=5)
        assert response.status_code == 400
        assert response.json()["errorMessages"] == ["The provided next page token is invalid or expired."]


def test_chains_are_per_user_and_query() -> None:
    chains = SearchChains(size=2)
    one = chains.put(None, "alice", "project = A", [1, 2, 3])
    assert chains.get(one, "alice", "project = A") == [1, 2, 3]
    assert chains.get(one, "bob", "project = A") is None
    assert chains.get(one, "alice", "project = B") is None
    two = chains.put(None, "alice", "project = B", [4])
    chains.get(one, "alice", "project = A")  # used: now the most recent
    chains.put(None, "alice", "project = C", [5])
    assert len(chains) == 2 and chains.get(two, "alice", "project = B") is None
    assert chains.get(one, "alice", "project = A") == [1, 2, 3]
    assert chains.put(one, "alice", "project = A", [9]) == one and chains.get(one, "alice", "project = A") == [9]


def test_search_lag_still_counts_every_page(sandbox_factory: Any) -> None:
    server = sandbox_factory("cloud", search_lag=3)
    s = session_for(server)
    new_key = _create(s, server, "lagging")
    keys, pages = _walk(s, server, size=5)  # three searches: the first page evaluates, two read the chain
    assert pages == 3 and new_key not in keys
    keys, _ = _walk(s, server, size=5)
    assert new_key in keys
