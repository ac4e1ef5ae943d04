"""The gate's one search request over the sandbox's ``/search/issues``: counts, label OR, pass/fail, the
search rate limit, incomplete results and unquotable names (both fall back to listing), matching items;
the query builder (property test, through the sandbox's parser and over HTTP); the sandbox's own rules.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from almdesk.base.records import GateRequest
from almdesk.base.settings import ConnectionSettings
from almdesk.jobs.context import JobContext
from almdesk.net.session import HttpFactory
from almdesk.sandbox.base import SandboxServer, serve
from almdesk.sandbox.github import GitHubSandbox, create
from almdesk.sandbox.github.model import Label, Milestone, Repo
from almdesk.sandbox.github.search import parse
from almdesk.systems.github import SYSTEM
from almdesk.systems.github.client import RateLimited
from almdesk.systems.github.ratelimit import limit_wait
from almdesk.systems.github.search import issue_query, quote_value
from tests.github.conftest import make_connection, make_connector, stop_soon
from tests.github.test_github_defect_gate import expected_open, repo_of

SEARCH = r"/search/issues"
SEVERITIES = ["severity:high", "severity:medium"]


def searches(app: GitHubSandbox) -> list[Any]:
    return app.requests_to("GET", SEARCH)


def test_gate_counts_with_one_search_request_after_the_lookups(gh_app: GitHubSandbox,
                                                               connection: ConnectionSettings, http: HttpFactory,
                                                               ctx: JobContext) -> None:
    repo = repo_of(gh_app)
    result = SYSTEM.gate(connection, GateRequest(release="v2.0", labels=["bug"], severities=SEVERITIES,
                                                 threshold=100, operator="<="), http, ctx)
    assert result.count == expected_open(repo, labels=("bug",), any_of=tuple(SEVERITIES), milestone=2) > 0
    assert result.requests == 4  # repository, labels, milestones, then one search
    [search] = searches(gh_app)
    assert [r.path for r in gh_app.received] == ["/repos/almdesk-demo/webapp", "/repos/almdesk-demo/webapp/labels",
                                                 "/repos/almdesk-demo/webapp/milestones", SEARCH]
    q = dict(parse_qsl(search.query))
    assert q["per_page"] == "1"
    assert q["q"] == ('repo:almdesk-demo/webapp is:issue is:open milestone:"v2.0" label:"bug" '
                      'label:"severity:high","severity:medium"')
    assert any("one search request" in line for _, line in ctx.lines)
    assert not gh_app.requests_to("GET", r"/repos/[^/]+/[^/]+/issues")  # nothing listed


def test_the_search_names_the_repository_as_github_does(gh_app: GitHubSandbox, connection: ConnectionSettings,
                                                        http: HttpFactory, ctx: JobContext) -> None:
    """A repository renamed since the connection was made: GitHub still answers its old name (redirect), but
    search only knows the new one, so the query uses the name the repository read gave."""
    repo = repo_of(gh_app)
    gh_app.world.repos["almdesk-demo/old-webapp"] = repo  # the old name still leads to the repository
    renamed = dataclasses.replace(connection, params={**connection.params, "alm_project": "old-webapp"})
    result = SYSTEM.gate(renamed, GateRequest(threshold=0), http, ctx)
    assert result.count == expected_open(repo)
    [search] = searches(gh_app)
    assert dict(parse_qsl(search.query))["q"] == "repo:almdesk-demo/webapp is:issue is:open"


def test_label_or_counts_an_issue_with_two_severities_once(gh_app: GitHubSandbox, connection: ConnectionSettings,
                                                           http: HttpFactory, ctx: JobContext) -> None:
    repo = repo_of(gh_app)
    issue = next(i for i in repo.issues.values() if i.state == "open" and not i.pull_request and "bug" in i.labels)
    issue.labels = ["bug", "severity:high", "Severity:Medium"]
    request = GateRequest(labels=["bug"], severities=SEVERITIES, threshold=0, operator=">")
    result = SYSTEM.gate(connection, request, http, ctx)
    assert result.count == expected_open(repo, labels=("bug",), any_of=tuple(SEVERITIES))
    one = SYSTEM.gate(connection, dataclasses.replace(request, severities=SEVERITIES[:1]), http, ctx)
    two = SYSTEM.gate(connection, dataclasses.replace(request, severities=SEVERITIES[1:]), http, ctx)
    assert result.count == one.count + two.count - 1  # one query per value would have counted it twice
    assert len(searches(gh_app)) == 3


@pytest.mark.parametrize(("threshold", "operator", "passed"), [(0, "=", False), (1000, "<", True),
                                                                (1, ">=", True), (10**6, "GT", False)])
def test_pass_and_fail(connection: ConnectionSettings, http: HttpFactory, ctx: JobContext, threshold: int,
                       operator: str, passed: bool) -> None:
    result = SYSTEM.gate(connection, GateRequest(threshold=threshold, operator=operator), http, ctx)
    assert result.count > 0 and result.passed is passed and result.requests == 2


def test_matching_items_come_from_search_pages(gh_app: GitHubSandbox, connection: ConnectionSettings,
                                               http: HttpFactory, ctx: JobContext) -> None:
    repo = repo_of(gh_app)
    result = SYSTEM.gate(connection, GateRequest(threshold=0), http, ctx)
    assert result.items is not None
    every = result.items(0, 100)
    expected = sorted((i for i in repo.issues.values() if i.state == "open" and not i.pull_request),
                      key=lambda i: (i.created_at, i.number))
    assert [item.key for item in every] == [f"#{i.number}" for i in expected]
    assert result.items(3, 5) == every[3:8] and result.items(5, 5) == every[5:10]
    assert all(r.path == SEARCH for r in gh_app.received if "/issues" in r.path)


def test_items_beyond_the_first_1000_results_are_listed(http: HttpFactory, ctx: JobContext) -> None:
    app = create(seed=3, issues=40)
    repo = repo_of(app)
    example = next(i for i in repo.issues.values() if i.state == "open" and not i.pull_request)
    for n in range(1100):
        number = repo.next_number
        repo.next_number += 1
        repo.issues[number] = dataclasses.replace(example, id=app.world.new_id(), number=number, title=f"Clone {n}",
                                                  labels=list(example.labels))
    with serve(app) as server:
        info = server.describe()
        connection = make_connection(make_connector(info), info)
        result = SYSTEM.gate(connection, GateRequest(threshold=0), http, ctx)
        assert result.count == expected_open(repo) > 1100 and result.items is not None
        tail = result.items(1000, 10)
        searched = result.items(990, 10)
    expected = sorted((i for i in repo.issues.values() if i.state == "open" and not i.pull_request),
                      key=lambda i: (i.created_at, i.number))
    assert [t.key for t in tail] == [f"#{i.number}" for i in expected[1000:1010]]
    assert [t.key for t in searched] == [f"#{i.number}" for i in expected[990:1000]]


def test_incomplete_results_fall_back_to_listing(gh_app: GitHubSandbox, connection: ConnectionSettings,
                                                 http: HttpFactory, ctx: JobContext) -> None:
    gh_app.world.search_scan_limit = 10
    result = SYSTEM.gate(connection, GateRequest(labels=["bug"], threshold=0), http, ctx)
    assert result.count == expected_open(repo_of(gh_app), labels=("bug",))
    assert any("incomplete_results" in line and level == "warning" for level, line in ctx.lines)
    assert len(searches(gh_app)) == 1 and gh_app.requests_to("GET", r"/repos/[^/]+/[^/]+/issues")


def test_a_name_search_cannot_express_falls_back_to_listing(gh_app: GitHubSandbox, connection: ConnectionSettings,
                                                            http: HttpFactory, ctx: JobContext) -> None:
    repo = repo_of(gh_app)
    odd = 'needs "triage"'
    repo.labels[odd.lower()] = Label(gh_app.world.new_id(), odd)
    issue = next(i for i in repo.issues.values() if i.state == "open" and not i.pull_request)
    issue.labels.append(odd)
    result = SYSTEM.gate(connection, GateRequest(labels=[odd], threshold=0), http, ctx)
    assert result.count == 1 and not searches(gh_app)
    assert any("double quote" in line for _, line in ctx.lines)


def test_search_rate_limit_is_waited_out_and_said(http: HttpFactory, ctx: JobContext) -> None:
    app = create(seed=3, issues=40, search_limit=1, search_window=1.0)
    with serve(app) as server:
        info = server.describe()
        connection = make_connection(make_connector(info), info)
        first = SYSTEM.gate(connection, GateRequest(threshold=0), http, ctx)
        second = SYSTEM.gate(connection, GateRequest(threshold=0), http, ctx)
    assert first.count == second.count > 0
    waits = [line for level, line in ctx.lines if level == "warning" and "search rate limit" in line]
    assert waits and "from x-ratelimit-reset" in waits[0] and "30 searches a minute" in waits[0]
    assert [r.status for r in app.requests_to("GET", SEARCH)] == [200, 403, 200]


def test_search_rate_limit_too_far_away_fails_with_a_clear_message(http: HttpFactory, ctx: JobContext) -> None:
    app = create(seed=3, issues=40, search_limit=1, search_window=3600.0)
    with serve(app) as server:
        info = server.describe()
        connection = make_connection(make_connector(info), info)
        SYSTEM.gate(connection, GateRequest(threshold=0), http, ctx)
        with pytest.raises(RateLimited) as caught:
            SYSTEM.gate(connection, GateRequest(threshold=0), http, ctx)
    message, hint = caught.value.message, caught.value.hint
    assert message.startswith("GitHub's search rate limit (30 searches a minute per token) was hit while counting")
    assert "until about" in message and "30 searches a minute" in hint and "Traceback" not in message


def test_reading_a_search_limited_answer() -> None:
    resp = requests.Response()
    resp.status_code = 403
    resp.headers.update({"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1030", "x-ratelimit-resource": "search"})
    resp._content = json.dumps({"message": "API rate limit exceeded for user ID 1."}).encode()
    wait = limit_wait(resp, now=lambda: 1000.0)
    assert wait is not None and wait.kind == "search" and wait.seconds == 31.0


def test_a_search_limited_answer_with_retry_after_is_still_the_search_limit() -> None:
    resp = requests.Response()
    resp.status_code = 429
    resp.headers.update({"retry-after": "20", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "1030",
                         "x-ratelimit-resource": "search"})
    resp._content = json.dumps({"message": "API rate limit exceeded for user ID 1."}).encode()
    wait = limit_wait(resp, now=lambda: 1000.0)
    assert wait is not None and (wait.kind, wait.source, wait.seconds) == ("search", "retry-after", 20.0)
    assert wait.reason.startswith("GitHub's search rate limit (30 searches a minute per token)")
    resp.headers["x-ratelimit-resource"] = "core"
    core = limit_wait(resp, now=lambda: 1000.0)
    assert core is not None and core.kind == "primary" and core.reason == "GitHub's primary rate limit was hit"


# --- the query builder ------------------------------------------------------------------------------------

NAME = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20).filter(lambda s: s.strip() == s)
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FAST
@given(milestone=st.one_of(st.just(""), NAME), all_of=st.lists(NAME, max_size=3),
       any_of=st.lists(st.lists(NAME, min_size=1, max_size=3), max_size=2))
def test_query_builder_round_trips_through_the_sandbox_parser(milestone: str, all_of: list[str],
                                                              any_of: list[list[str]]) -> None:
    q = issue_query("own-er/re.po", milestone=milestone, all_of=all_of, any_of=any_of)
    values = [milestone, *all_of, *(v for g in any_of for v in g)]
    if any(quote_value(v) is None for v in values if v):
        assert q is None
        assert any('"' in v or "\\" in v or any(ord(c) < 32 or ord(c) == 127 for c in v) for v in values)
        return
    assert q is not None
    parsed = parse(q)
    assert parsed.repos == ["own-er/re.po"] and parsed.kind == "issue" and parsed.state == "open"
    assert parsed.milestones == ([{milestone.lower()}] if milestone else [])
    assert parsed.label_groups == [{v.lower()} for v in all_of] + [{v.lower() for v in g} for g in any_of]
    assert not parsed.words and not parsed.excluded_labels


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[GitHubSandbox, SandboxServer]]:
    app = create(seed=5, issues=30, search_limit=10**6)
    server = serve(app)
    yield app, server
    stop_soon(server)


SAFE = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters='"\\'), min_size=1,
               max_size=12).filter(lambda s: s.strip() == s)


@FAST
@given(names=st.lists(SAFE, min_size=3, max_size=3, unique_by=str.lower), title=SAFE,
       marks=st.lists(st.tuples(st.booleans(), st.booleans(), st.booleans(), st.booleans()), min_size=6,
                      max_size=6))
def test_quoted_names_count_exactly_over_http(served: tuple[GitHubSandbox, SandboxServer], names: list[str],
                                              title: str, marks: list[tuple[bool, bool, bool, bool]]) -> None:
    """Labels and a milestone with spaces, colons, commas, quotes-free Unicode: the count is exact."""
    app, server = served
    with app.lock:
        repo = app.world.repo("almdesk-demo", "public-site")
        assert repo is not None
        reset(app, repo)
        for name in names:
            repo.labels[name.lower()] = Label(app.world.new_id(), name)
        number = max(repo.milestones, default=0) + 1
        repo.milestones[number] = Milestone(app.world.new_id(), number, title, "almdesk-bot")
        for (a, b, c, in_ms), issue in zip(marks, list(repo.issues.values())[:6], strict=False):
            issue.state, issue.pull_request = "open", False
            issue.labels = [n for n, on in zip(names, (a, b, c), strict=True) if on]
            issue.milestone = number if in_ms else None
    q = issue_query(repo.full_name, milestone=title, all_of=names[:1], any_of=[names[1:]])
    assert q is not None
    answer = requests.get(f"{server.describe()['params']['url']}/search/issues", params={"q": q, "per_page": 1},
                          headers={"Authorization": f"token {app.tokens['admin']}"}, timeout=10)
    assert answer.status_code == 200, answer.text
    expected = sum(1 for i in repo.issues.values() if i.state == "open" and not i.pull_request
                   and i.milestone == number and names[0] in i.labels and set(names[1:]) & set(i.labels))
    assert answer.json()["total_count"] == expected


def reset(app: GitHubSandbox, repo: Repo) -> None:
    """Back to the seeded labels and milestones (examples add their own)."""
    keep = {"bug", "documentation", "duplicate", "enhancement", "good first issue", "help wanted", "invalid",
            "question", "wontfix", "almdesk", "high", "medium", "low", "security", "severity:high",
            "severity:medium", "severity:low"}
    for key in [k for k in repo.labels if k not in keep]:
        del repo.labels[key]
    repo.milestones.clear()


# --- the sandbox's search ----------------------------------------------------------------------------------

def test_sandbox_search_rules(gh_app: GitHubSandbox, gh_server: Any, gh_api: str, auth: dict[str, str]) -> None:
    repo = repo_of(gh_app)

    def search(q: str, base: str = gh_api, **params: Any) -> requests.Response:
        return requests.get(f"{base}/search/issues", params={"q": q, **params}, headers=auth, timeout=10)

    everything = search("repo:almdesk-demo/webapp", per_page=100).json()
    assert everything["total_count"] == len(repo.issues) and not everything["incomplete_results"]
    prs = search("repo:almdesk-demo/webapp is:pr").json()["total_count"]
    assert prs == sum(1 for i in repo.issues.values() if i.pull_request) > 0
    closed = search("repo:almdesk-demo/webapp state:closed type:issue -label:duplicate no:milestone").json()
    assert closed["total_count"] == sum(1 for i in repo.issues.values() if i.state == "closed" and not i.pull_request
                                        and "duplicate" not in i.labels and i.milestone is None)
    words = search('repo:almdesk-demo/webapp "T1:"', base=gh_server.url).json()  # api.github.com-style root too
    assert words["total_count"] == sum(1 for i in repo.issues.values() if "t1:" in i.title.lower())
    assert search("repo:almdesk-demo/webapp milestone:v9").json()["total_count"] == 0
    paged = search("repo:almdesk-demo/webapp", per_page=7, page=2)
    assert len(paged.json()["items"]) == 7 and 'rel="next"' in paged.headers["Link"]
    assert all("score" in i and "closed_by" not in i for i in paged.json()["items"])
    refused = [search("repo:almdesk-demo/webapp author:me"), search(""), search("repo:other-org/secret"),
               search("repo:almdesk-demo/webapp", page=11, per_page=100), search("repo:almdesk-demo/webapp", sort="x")]
    assert [r.status_code for r in refused] == [422, 422, 422, 422, 422]
    assert "cannot be searched" in refused[2].json()["errors"][0]["message"]
    assert all(r.headers["x-ratelimit-resource"] == "search" for r in refused)
    core = requests.get(f"{gh_api}/rate_limit", headers=auth, timeout=10).json()["resources"]
    assert core["search"]["used"] == 11 and core["search"]["limit"] == 30 and core["core"]["used"] == 0
