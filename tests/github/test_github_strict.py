"""The GitHub sandbox is as strict as api.github.com: conditional requests (ETag → 304, free against
the primary limit), ``X-GitHub-Request-Id`` on every answer (401 included), ``application/json;
charset=utf-8``, 415 for an ``Accept`` without JSON, the ``in:`` search qualifier, ``state_reason:
duplicate``, current REST fields, and the secondary limit on concurrent writes. Through PyGithub where
it exercises the behaviour, else plain HTTP over loopback."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import requests
from github import Auth, Github

from almdesk.sandbox.base import SandboxServer, serve
from almdesk.sandbox.github import GitHubSandbox, create
from tests.github.conftest import stop_soon

REPO = "/repos/almdesk-demo/webapp"


@pytest.fixture(scope="module")
def hub() -> Iterator[tuple[GitHubSandbox, SandboxServer]]:
    app = create(seed=5, issues=60)
    server = serve(app)
    yield app, server
    stop_soon(server)


def headers(app: GitHubSandbox, **extra: str) -> dict[str, str]:
    return {"Authorization": f"token {app.tokens['admin']}", "Accept": "application/vnd.github+json", **extra}


def test_pygithub_conditional_update_gets_304_and_it_is_free(hub: tuple[GitHubSandbox, SandboxServer]) -> None:
    app, server = hub
    gh = Github(base_url=f"{server.url}/api/v3", auth=Auth.Token(app.tokens["admin"]), retry=None,
                seconds_between_requests=0, seconds_between_writes=0)
    issue = gh.get_repo("almdesk-demo/webapp").get_issue(3)
    assert issue.etag
    used = int(requests.get(server.url + "/rate_limit", headers=headers(app), timeout=5).json()["rate"]["used"])
    assert issue.update() is False  # If-None-Match answered 304: nothing changed
    after = int(requests.get(server.url + "/rate_limit", headers=headers(app), timeout=5).json()["rate"]["used"])
    assert after == used  # a 304 does not count against the primary limit
    assert app.status_counts[304] >= 1
    renamed = requests.patch(server.url + REPO + "/issues/3", json={"title": "Renamed by someone else"},
                             headers=headers(app), timeout=5)
    assert renamed.status_code == 200
    assert issue.update() is True and issue.title == "Renamed by someone else"  # changed: 200 with a new ETag


def test_etag_and_304_over_http(hub: tuple[GitHubSandbox, SandboxServer]) -> None:
    app, server = hub
    first = requests.get(server.url + REPO + "/issues/2", headers=headers(app), timeout=5)
    tag = first.headers["ETag"]
    again = requests.get(server.url + REPO + "/issues/2", headers=headers(app, **{"If-None-Match": tag}), timeout=5)
    assert again.status_code == 304 and again.content == b"" and again.headers["X-GitHub-Request-Id"]
    other = requests.get(server.url + REPO + "/issues/2", headers=headers(app, **{"If-None-Match": 'W/"x"'}),
                         timeout=5)
    assert other.status_code == 200


def test_request_id_charset_and_accept(hub: tuple[GitHubSandbox, SandboxServer]) -> None:
    app, server = hub
    bad = requests.get(server.url + "/user", headers={"Authorization": "token nope"}, timeout=5)
    assert bad.status_code == 401 and bad.json()["message"] == "Bad credentials"
    assert len(bad.headers["X-GitHub-Request-Id"]) == 16
    ok = requests.get(server.url + "/user", headers=headers(app), timeout=5)
    assert ok.headers["Content-Type"] == "application/json; charset=utf-8"
    assert ok.headers["X-GitHub-Request-Id"] != bad.headers["X-GitHub-Request-Id"]
    xml = requests.get(server.url + "/user", headers=headers(app, Accept="application/xml"), timeout=5)
    assert xml.status_code == 415
    assert xml.json()["message"] == "Unsupported 'Accept' header: 'application/xml'. Must accept 'application/json'."
    for accept in ("application/vnd.github.v3+json", "application/json", "*/*", "application/vnd.github.raw+json"):
        assert requests.get(server.url + "/user", headers=headers(app, Accept=accept), timeout=5).status_code == 200
    # GitHub reads any body as JSON: a text/plain body is not refused
    created = requests.post(server.url + REPO + "/issues", data='{"title": "plain body"}',
                            headers=headers(app, **{"Content-Type": "text/plain"}), timeout=5)
    assert created.status_code == 201


def test_in_title_qualifier(hub: tuple[GitHubSandbox, SandboxServer]) -> None:
    app, server = hub
    body_only = requests.post(server.url + REPO + "/issues", headers=headers(app), timeout=5,
                              json={"title": "Quiet title", "body": "zebracorn appears in the body only"}).json()
    titled = requests.post(server.url + REPO + "/issues", headers=headers(app), timeout=5,
                           json={"title": "zebracorn in the title", "body": "nothing"}).json()

    def found(q: str) -> set[int]:
        r = requests.get(server.url + "/search/issues", params={"q": q}, headers=headers(app), timeout=5)
        assert r.status_code == 200, r.text
        return {i["number"] for i in r.json()["items"]}

    assert found("repo:almdesk-demo/webapp zebracorn") == {body_only["number"], titled["number"]}
    assert found("repo:almdesk-demo/webapp zebracorn in:title") == {titled["number"]}
    assert found("repo:almdesk-demo/webapp zebracorn in:body") == {body_only["number"]}
    wrong = requests.get(server.url + "/search/issues", params={"q": "zebracorn in:labels"}, headers=headers(app),
                         timeout=5)
    assert wrong.status_code == 422


def test_duplicate_state_reason_and_current_fields(hub: tuple[GitHubSandbox, SandboxServer]) -> None:
    app, server = hub
    gh = Github(base_url=f"{server.url}/api/v3", auth=Auth.Token(app.tokens["admin"]), retry=None,
                seconds_between_requests=0, seconds_between_writes=0)
    repo = gh.get_repo("almdesk-demo/webapp")
    assert repo.has_discussions is False
    issue = repo.create_issue(title="Closed as a duplicate")
    issue.edit(state="closed", state_reason="duplicate")
    assert issue.state == "closed" and issue.state_reason == "duplicate"
    raw = requests.get(server.url + REPO + f"/issues/{issue.number}", headers=headers(app), timeout=5).json()
    assert raw["state_reason"] == "duplicate" and raw["type"] is None
    assert raw["sub_issues_summary"] == {"total": 0, "completed": 0, "percent_completed": 0}
    seeded = [i for i in app.world.repo("almdesk-demo", "webapp").issues.values() if i.state_reason == "duplicate"]
    assert seeded  # the demo data has issues closed as duplicates too


def test_concurrent_writes_meet_the_secondary_limit() -> None:
    """Strict mode: writes of one token run one at a time; the others get the secondary-limit 403."""
    app = create(seed=5, issues=5, strict_rate_limits=True)
    server = serve(app, latency=0.4)  # keeps each write in flight long enough for the others to meet it
    n = 4
    start = threading.Barrier(n)
    codes: list[int] = []
    lock = threading.Lock()

    def write(k: int) -> None:
        start.wait()
        r = requests.post(server.url + REPO + "/issues", json={"title": f"parallel {k}"}, headers=headers(app),
                          timeout=30)
        with lock:
            codes.append(r.status_code)
            if r.status_code == 403:
                assert "secondary rate limit" in r.json()["message"] and r.headers["retry-after"] == "1"

    threads = [threading.Thread(target=write, args=(k,)) for k in range(n)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        stop_soon(server)
    assert sorted(set(codes)) == [201, 403]
    assert codes.count(403) == app.concurrency.refused["concurrent-writes"]
    assert app.concurrency.peak("concurrent-writes") == 1
    assert app.concurrency.peak("all") >= 2  # they did arrive together
