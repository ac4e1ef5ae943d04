"""The GitHub sandbox over real HTTP: prefixes, auth, visibility, issues (filters, paging), writes, limits."""

from __future__ import annotations

from typing import Any

import requests

from almdesk.sandbox.base import Faults, serve
from almdesk.sandbox.github import GitHubSandbox, create

REPO = "/repos/almdesk-demo/webapp"


def all_pages(url: str, headers: dict[str, str], params: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    items: list[dict[str, Any]] = []
    calls = 0
    next_url: str | None = url
    while next_url:
        resp = requests.get(next_url, headers=headers, params=params if calls == 0 else None, timeout=10)
        assert resp.status_code == 200, resp.text
        items += resp.json()
        calls += 1
        next_url = resp.links.get("next", {}).get("url")
    return items, calls


def test_serves_root_and_enterprise_prefix(gh_server: Any, gh_api: str, auth: dict[str, str]) -> None:
    root = requests.get(f"{gh_server.url}/user", headers=auth, timeout=10)
    ent = requests.get(f"{gh_api}/user", headers=auth, timeout=10)
    assert root.status_code == ent.status_code == 200
    assert root.json()["login"] == ent.json()["login"] == "almdesk-bot"
    assert "X-GitHub-Enterprise-Version" in ent.headers and "X-GitHub-Enterprise-Version" not in root.headers
    assert ent.json()["url"].startswith(gh_api) and not root.json()["url"].startswith(gh_api)
    assert ent.headers["X-OAuth-Scopes"] == "repo, read:org"
    meta = requests.get(f"{gh_api}/meta", timeout=10).json()
    assert meta["installed_version"] and "installed_version" not in requests.get(f"{gh_server.url}/meta",
                                                                                  timeout=10).json()


def test_auth_schemes_and_errors(gh_app: GitHubSandbox, gh_api: str) -> None:
    token = gh_app.tokens["admin"]
    for header in (f"token {token}", f"Bearer {token}", f"bearer {token}"):
        assert requests.get(f"{gh_api}/user", headers={"Authorization": header}, timeout=10).status_code == 200
    bad = requests.get(f"{gh_api}/user", headers={"Authorization": "token ghp_wrong"}, timeout=10)
    assert bad.status_code == 401 and bad.json()["message"] == "Bad credentials"
    anon = requests.get(f"{gh_api}/user", timeout=10)
    assert anon.status_code == 401 and anon.json()["message"] == "Requires authentication"
    fine = requests.get(f"{gh_api}/user", headers={"Authorization": f"Bearer {gh_app.tokens['readonly']}"},
                        timeout=10)
    assert fine.status_code == 200 and "X-OAuth-Scopes" not in fine.headers


def test_visibility_and_permissions(gh_app: GitHubSandbox, gh_api: str, auth: dict[str, str]) -> None:
    assert requests.get(f"{gh_api}{REPO}", timeout=10).status_code == 404  # private, anonymous
    repo = requests.get(f"{gh_api}{REPO}", headers=auth, timeout=10).json()
    assert repo["private"] is True and repo["has_issues"] is True and repo["permissions"]["push"] is True
    assert requests.get(f"{gh_api}/repos/other-org/secret", headers=auth, timeout=10).status_code == 404
    shared = requests.get(f"{gh_api}/repos/other-org/shared-lib", headers=auth, timeout=10).json()
    assert shared["private"] is False and shared["permissions"] == {
        "admin": False, "maintain": False, "push": False, "triage": False, "pull": True}
    public_only = {"Authorization": f"token {gh_app.tokens['public']}"}
    assert requests.get(f"{gh_api}{REPO}", headers=public_only, timeout=10).status_code == 404
    assert requests.get(f"{gh_api}/repos/almdesk-demo/public-site", headers=public_only,
                        timeout=10).status_code == 200
    mine = requests.get(f"{gh_api}/user/repos", headers=auth, params={"per_page": 100}, timeout=10).json()
    assert "almdesk-demo/webapp" in {r["full_name"] for r in mine}
    assert "other-org/secret" not in {r["full_name"] for r in mine}


def test_issue_paging_covers_everything_once(gh_app: GitHubSandbox, gh_api: str, auth: dict[str, str]) -> None:
    total = len(gh_app.world.repo("almdesk-demo", "webapp").issues)  # type: ignore[union-attr]
    items, calls = all_pages(f"{gh_api}{REPO}/issues", auth, {"state": "all", "per_page": 7})
    assert sorted(i["number"] for i in items) == list(range(1, total + 1))
    assert calls == -(-total // 7)
    first = requests.get(f"{gh_api}{REPO}/issues", headers=auth, params={"state": "all", "per_page": 500},
                         timeout=10)
    assert len(first.json()) == min(total, 100)
    assert any("pull_request" in i for i in items) and any("pull_request" not in i for i in items)
    last = requests.get(f"{gh_api}{REPO}/issues", headers=auth, params={"state": "all", "per_page": 7, "page": 2},
                        timeout=10)
    assert {"prev", "first", "next", "last"} <= set(last.links)


def test_issue_filters_and_sort(gh_api: str, auth: dict[str, str]) -> None:
    url = f"{gh_api}{REPO}/issues"
    everything, _ = all_pages(url, auth, {"state": "all", "per_page": 100})
    open_, _ = all_pages(url, auth, {"per_page": 100})
    assert open_ and all(i["state"] == "open" for i in open_)
    closed, _ = all_pages(url, auth, {"state": "closed", "per_page": 100})
    assert len(open_) + len(closed) == len(everything)
    tagged, _ = all_pages(url, auth, {"state": "all", "labels": "almdesk,HIGH", "per_page": 100})
    assert tagged and all({"almdesk", "high"} <= {lab["name"].lower() for lab in i["labels"]} for i in tagged)
    asc = requests.get(url, headers=auth, params={"state": "all", "sort": "created", "direction": "asc"},
                       timeout=10).json()
    assert [i["created_at"] for i in asc] == sorted(i["created_at"] for i in asc)
    since = sorted(i["updated_at"] for i in everything)[len(everything) // 2]
    recent, _ = all_pages(url, auth, {"state": "all", "since": since, "per_page": 100})
    assert recent and all(i["updated_at"] >= since for i in recent)
    assert requests.get(url, headers=auth, params={"state": "bogus"}, timeout=10).status_code == 422
    with_ms, _ = all_pages(url, auth, {"state": "all", "milestone": "1", "per_page": 100})
    assert all(i["milestone"]["number"] == 1 for i in with_ms)


def test_create_update_and_errors(gh_app: GitHubSandbox, gh_api: str, auth: dict[str, str]) -> None:
    url = f"{gh_api}{REPO}/issues"
    made = requests.post(url, headers=auth, json={"title": "New", "body": "b", "labels": ["fresh", "bug"],
                                                  "milestone": 1}, timeout=10)
    assert made.status_code == 201 and made.headers["Location"] == made.json()["url"]
    issue = made.json()
    assert {lab["name"] for lab in issue["labels"]} == {"fresh", "bug"} and issue["milestone"]["number"] == 1
    missing = requests.post(url, headers=auth, json={"body": "no title"}, timeout=10)
    assert missing.status_code == 422 and missing.json()["errors"][0] == {
        "resource": "Issue", "field": "title", "code": "missing_field"}
    assert requests.post(url, headers=auth, json={"title": " "}, timeout=10).status_code == 422
    assert requests.post(url, headers=auth, data="{nope", timeout=10).status_code == 400
    closed = requests.patch(issue["url"], headers=auth, json={"state": "closed", "state_reason": "not_planned"},
                            timeout=10).json()
    assert closed["state"] == "closed" and closed["state_reason"] == "not_planned" and closed["closed_at"]
    reopened = requests.patch(issue["url"], headers=auth, json={"state": "open", "labels": []}, timeout=10).json()
    assert reopened["state"] == "open" and reopened["state_reason"] == "reopened" and reopened["labels"] == []
    assert requests.patch(issue["url"], headers=auth, json={"state": "done"}, timeout=10).status_code == 422
    legacy = requests.post(f"{gh_api}/repos/almdesk-demo/legacy/issues", headers=auth, json={"title": "x"},
                           timeout=10)
    assert legacy.status_code == 410
    archived = requests.post(f"{gh_api}/repos/almdesk-demo/old-tool/issues", headers=auth, json={"title": "x"},
                             timeout=10)
    assert archived.status_code == 403 and "archived" in archived.json()["message"]
    readonly = {"Authorization": f"Bearer {gh_app.tokens['readonly']}"}
    denied = requests.post(url, headers=readonly, json={"title": "x"}, timeout=10)
    assert denied.status_code == 403 and "not accessible" in denied.json()["message"]
    # a read-only collaborator may open an issue, but its labels are silently dropped
    shared = requests.post(f"{gh_api}/repos/other-org/shared-lib/issues", headers=auth,
                           json={"title": "from a reader", "labels": ["bug"]}, timeout=10)
    assert shared.status_code == 201 and shared.json()["labels"] == []


def test_labels_and_milestones(gh_api: str, auth: dict[str, str]) -> None:
    labels = requests.get(f"{gh_api}{REPO}/labels", headers=auth, params={"per_page": 100}, timeout=10).json()
    assert {"almdesk", "duplicate", "bug"} <= {lab["name"] for lab in labels}
    made = requests.post(f"{gh_api}{REPO}/labels", headers=auth, json={"name": "team-x", "color": "00ff00"},
                         timeout=10)
    assert made.status_code == 201
    again = requests.post(f"{gh_api}{REPO}/labels", headers=auth, json={"name": "TEAM-X"}, timeout=10)
    assert again.status_code == 422 and again.json()["errors"][0]["code"] == "already_exists"
    assert requests.get(f"{gh_api}{REPO}/labels/team-x", headers=auth, timeout=10).json()["color"] == "00ff00"
    assert requests.get(f"{gh_api}{REPO}/labels/none-such", headers=auth, timeout=10).status_code == 404
    open_ms = requests.get(f"{gh_api}{REPO}/milestones", headers=auth, timeout=10).json()
    all_ms = requests.get(f"{gh_api}{REPO}/milestones", headers=auth, params={"state": "all"}, timeout=10).json()
    assert {m["title"] for m in open_ms} == {"v1.0", "v2.0"} and len(all_ms) == 3


def test_primary_rate_limit_headers_and_exhaustion() -> None:
    app = create(seed=1, issues=5, primary_limit=3)
    with serve(app) as server:
        headers = {"Authorization": f"token {app.tokens['admin']}"}
        seen = [requests.get(f"{server.url}/user", headers=headers, timeout=10) for _ in range(4)]
        assert [r.headers["x-ratelimit-remaining"] for r in seen[:3]] == ["2", "1", "0"]
        assert seen[3].status_code == 403 and "API rate limit exceeded" in seen[3].json()["message"]
        assert int(seen[3].headers["x-ratelimit-reset"]) > 0
        free = requests.get(f"{server.url}/rate_limit", headers=headers, timeout=10).json()
        assert free["resources"]["core"]["remaining"] == 0


def test_secondary_limit_in_strict_mode_only() -> None:
    for strict in (False, True):
        app = create(seed=1, issues=5, strict_rate_limits=strict, secondary_minute=30)
        with serve(app) as server:
            headers = {"Authorization": f"token {app.tokens['admin']}"}
            codes = [requests.post(f"{server.url}{REPO}/issues", headers=headers, json={"title": f"t{i}"},
                                   timeout=10) for i in range(81)]
            assert all(r.status_code == 201 for r in codes[:80])
            if strict:
                assert codes[80].status_code == 403 and "secondary rate limit" in codes[80].json()["message"]
                assert 1 <= int(codes[80].headers["retry-after"]) <= 30
            else:
                assert codes[80].status_code == 201


def test_describe_and_fault_injection() -> None:
    app = create(seed=2, issues=3)
    with serve(app, faults=Faults.parse("500:1.0")) as server:
        info = server.describe()
        assert set(info) == {"system", "url", "params", "secrets", "connection_params"}
        assert info["params"]["url"] == f"{server.url}/api/v3"
        resp = requests.get(f"{info['params']['url']}/user",
                            headers={"Authorization": f"token {info['secrets']['alm_api_token']}"}, timeout=10)
        assert resp.status_code == 500


def test_received_requests_are_recorded(gh_app: GitHubSandbox, gh_api: str, auth: dict[str, str]) -> None:
    requests.post(f"{gh_api}{REPO}/issues", headers=auth, json={"title": "recorded"}, timeout=10)
    [seen] = gh_app.requests_to("POST", r"/repos/[^/]+/[^/]+/issues")
    assert seen.enterprise and b"recorded" in seen.body and seen.status == 201
