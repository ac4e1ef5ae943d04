"""Property tests: paging covers each issue once, titles survive a round trip, URL derivation is stable,
priority maps cover 1–10 exactly, rate-limit waits follow GitHub's headers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from itertools import pairwise
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from almdesk.errors import ConfigError
from almdesk.net.session import HttpFactory
from almdesk.sandbox.base import SandboxServer, serve
from almdesk.sandbox.github import GitHubSandbox, create
from almdesk.systems.github.client import GitHubClient
from almdesk.systems.github.fields import check_connection, normalize_api_url, priority_labels
from almdesk.systems.github.ratelimit import limit_wait
from tests.github.conftest import make_connector, stop_soon

FAST = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[GitHubSandbox, SandboxServer]]:
    app = create(seed=21, issues=57)
    server = serve(app)
    yield app, server
    stop_soon(server)


@FAST
@given(per_page=st.integers(min_value=1, max_value=150), state=st.sampled_from(["open", "closed", "all"]),
       label=st.sampled_from(["", "almdesk", "bug", "severity:high"]))
def test_link_paging_yields_every_issue_once(served: tuple[GitHubSandbox, SandboxServer], per_page: int, state: str,
                                             label: str) -> None:
    app, server = served
    info = server.describe()
    http = HttpFactory()
    client = GitHubClient(make_connector(info), http)
    params: dict[str, Any] = {"state": state, "per_page": per_page}
    if label:
        params["labels"] = label
    seen = [i["number"] for page in client.pages("/repos/almdesk-demo/webapp/issues", what="listing",
                                                 params=params) for i in page]
    client.close()
    repo = app.world.repo("almdesk-demo", "webapp")
    assert repo is not None
    expected = {i.number for i in repo.issues.values() if (state == "all" or i.state == state)
                and (not label or label in i.labels) and not i.title.startswith("prop:")}
    assert len(seen) == len(set(seen)) and set(seen) - {n for n, i in repo.issues.items()
                                                         if i.title.startswith("prop:")} == expected
    size = min(per_page, 100)
    assert http.requests == max(1, -(-len(seen) // size))


TITLE = st.text(st.characters(blacklist_categories=["Cs", "Cc"]), min_size=1, max_size=256).filter(str.strip)


@FAST
@given(title=TITLE)
def test_titles_round_trip(served: tuple[GitHubSandbox, SandboxServer], title: str) -> None:
    app, server = served
    headers = {"Authorization": f"token {app.tokens['admin']}"}
    made = requests.post(f"{server.url}/repos/almdesk-demo/webapp/issues", headers=headers,
                         data=json.dumps({"title": "prop:" + title[:251]}), timeout=10)
    assert made.status_code == 201
    again = requests.get(made.json()["url"], headers=headers, timeout=10).json()
    assert again["title"] == "prop:" + title[:251]


@FAST
@given(extra=st.text(alphabet="x", min_size=1, max_size=40))
def test_titles_over_256_are_refused(served: tuple[GitHubSandbox, SandboxServer], extra: str) -> None:
    app, server = served
    made = requests.post(f"{server.url}/repos/almdesk-demo/webapp/issues",
                         headers={"Authorization": f"token {app.tokens['admin']}"},
                         json={"title": "t" * 256 + extra}, timeout=10)
    assert made.status_code == 422 and made.json()["errors"][0]["code"] == "custom"


HOST = st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z][a-z0-9-]{0,10}){0,3}", fullmatch=True)


@FAST
@given(scheme=st.sampled_from(["http", "https"]), host=HOST, port=st.none() | st.integers(1, 65535),
       path=st.sampled_from(["", "/", "/api/v3", "/api/v3/", "/custom"]))
def test_api_url_derivation_is_stable(scheme: str, host: str, port: int | None, path: str) -> None:
    url = f"{scheme}://{host}{f':{port}' if port else ''}{path}"
    once = normalize_api_url(url)
    assert normalize_api_url(once) == once and not once.endswith("/")
    assert once.startswith(f"{scheme}://") or once == "https://api.github.com"


@FAST
@given(cuts=st.sets(st.integers(min_value=1, max_value=9)), names=st.lists(st.sampled_from(["Low", "Mid", "High"]),
                                                                            min_size=10, max_size=10))
def test_priority_map_partitions(cuts: set[int], names: list[str]) -> None:
    bounds = [0, *sorted(cuts), 10]
    ranges = {f"{lo + 1}-{hi}" if hi > lo + 1 else str(hi): names[i] for i, (lo, hi) in
              enumerate(pairwise(bounds))}
    mapping = priority_labels(json.dumps(ranges))
    assert sorted(mapping) == list(range(1, 11))
    if cuts:
        overlapping = dict(ranges)
        overlapping["1-10"] = "All"
        with pytest.raises(ConfigError):
            priority_labels(json.dumps(overlapping))


OWNER = st.from_regex(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,20}", fullmatch=True)
REPO = st.from_regex(r"[A-Za-z0-9._-]{1,30}", fullmatch=True).filter(lambda r: not r.endswith(".git"))


@FAST
@given(owner=OWNER, repo=REPO)
def test_owner_slash_repo_splits(owner: str, repo: str) -> None:
    out = check_connection({"alm_project": f"{owner}/{repo}", "github_repo_owner": ""})
    assert (out["github_repo_owner"], out["alm_project"]) == (owner, repo)


def fake(status: int, headers: dict[str, str], message: str) -> requests.Response:
    resp = requests.Response()
    resp.status_code = status
    resp.headers.update(headers)
    resp._content = json.dumps({"message": message}).encode()
    return resp


@FAST
@given(after=st.integers(min_value=0, max_value=100_000), status=st.sampled_from([403, 429]))
def test_retry_after_is_obeyed(after: int, status: int) -> None:
    wait = limit_wait(fake(status, {"retry-after": str(after)}, "You have exceeded a secondary rate limit."))
    assert wait is not None and wait.seconds == max(after, 1) and wait.source == "retry-after"


@FAST
@given(ahead=st.integers(min_value=-100, max_value=7200))
def test_reset_time_is_obeyed(ahead: int) -> None:
    now = 1_700_000_000.0
    wait = limit_wait(fake(403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(now) + ahead)},
                           "API rate limit exceeded"), now=lambda: now)
    assert wait is not None and wait.kind == "primary" and wait.seconds == max(ahead, 0) + 1
