"""The sync adapter against the sandbox: listing, creating (labels, milestone, close), public guard, errors."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import pytest

from almdesk.base.records import ItemDraft, RemoteItem
from almdesk.base.settings import ConnectionSettings
from almdesk.errors import AuthError, CancelledError, ConfigError, UserFacingError
from almdesk.jobs.context import JobContext
from almdesk.net.session import HttpFactory
from almdesk.sandbox.base import Faults, serve
from almdesk.sandbox.github import GitHubSandbox, create
from almdesk.systems.github import SYSTEM
from almdesk.systems.github.issues import PUBLIC_NOTE
from almdesk.systems.marks import context_mark
from tests.github.conftest import make_connection, make_connector, stop_soon

ISSUES = r"/repos/[^/]+/[^/]+/issues"


def draft(n: int, *, done: bool = False, priority: int = 8, text: str = "Do the thing carefully.") -> ItemDraft:
    return ItemDraft(task_id=f"T{n}", title=f"T{n}: Task number {n}", text=text, priority=priority, tags=[],
                     done=done)


def adapter_for(connection: ConnectionSettings, http: HttpFactory, ctx: JobContext) -> Any:
    adapter = SYSTEM.sync_adapter(connection, http, ctx)
    adapter.prepare()
    return adapter


def test_iter_items_lists_open_and_closed_task_issues(gh_app: GitHubSandbox, connection: ConnectionSettings,
                                                      ctx: JobContext) -> None:
    repo = gh_app.world.repo("almdesk-demo", "webapp")
    assert repo is not None
    closed_as_duplicate = next(i for i in repo.issues.values() if "almdesk" in i.labels and not i.pull_request)
    closed_as_duplicate.state, closed_as_duplicate.state_reason = "closed", "duplicate"  # no label: still skipped
    http = HttpFactory()
    adapter = adapter_for(connection, http, ctx)
    before = http.requests
    items = list(adapter.iter_items())
    expected = {i.number for i in repo.issues.values() if not i.pull_request and "almdesk" in i.labels
                and "duplicate" not in i.labels and i.state_reason != "duplicate"}
    assert closed_as_duplicate.number not in expected
    assert {int(i.ref) for i in items} == expected and len(items) == len(expected)
    assert http.requests - before == max(1, -(-len(expected) // 100))
    assert any(i.done for i in items) and any(not i.done for i in items)
    for item in items:
        issue = repo.issues[int(item.ref)]
        assert item.key == f"#{issue.number}" and item.title == issue.title and item.done == (issue.state == "closed")
        assert item.updated is not None and item.updated.tzinfo is not None and item.status.startswith(issue.state)
    adapter.close()


def test_iter_items_pages_through_many(connector: Any, gh_info: dict[str, Any], ctx: JobContext) -> None:
    app = create(seed=5, issues=450)
    with serve(app) as server:
        info = server.describe()
        conn = make_connection(make_connector(info), info)
        conn.params["github_issue_label"] = ""  # no label: every issue of the repository is a candidate
        http = HttpFactory()
        adapter = adapter_for(conn, http, ctx)
        before = http.requests
        items = list(adapter.iter_items())
        repo = app.world.repo("almdesk-demo", "webapp")
        assert repo is not None
        everything = [i for i in repo.issues.values() if not i.pull_request and "duplicate" not in i.labels]
        assert len(items) == len(everything) and http.requests - before == -(-len(repo.issues) // 100)


def test_create_items_labels_milestone_and_close(gh_app: GitHubSandbox, connector: Any, gh_info: dict[str, Any],
                                                 http: HttpFactory, ctx: JobContext) -> None:
    conn = make_connection(connector, gh_info, alm_project_version="v1.0", github_close_reason="not_planned")
    adapter = adapter_for(conn, http, ctx)
    results = adapter.create_items([draft(101), draft(102, done=True, priority=2)])
    assert all(isinstance(r, RemoteItem) for r in results)
    first, second = results
    assert isinstance(first, RemoteItem) and isinstance(second, RemoteItem)
    assert not first.done and first.title == "T101: Task number 101" and second.done
    repo = gh_app.world.repo("almdesk-demo", "webapp")
    assert repo is not None
    a, b = repo.issues[int(first.ref)], repo.issues[int(second.ref)]
    mark = context_mark("")  # the context mark of the connection (its context is empty)
    assert a.labels == ["almdesk", mark, "High"] and b.labels == ["almdesk", mark, "Low"] and a.milestone == 1
    assert b.state == "closed" and b.state_reason == "not_planned"
    assert a.body is not None and a.body.startswith("Do the thing carefully.") and "T101" in a.body
    reopened = adapter.set_done(second, False)
    assert not reopened.done and repo.issues[int(second.ref)].state == "open"
    closed = adapter.set_done(first, True)
    assert closed.done and closed.status == "closed (not planned)"
    assert {int(i.ref) for i in adapter.iter_items()} >= {a.number, b.number}


def test_public_repository_gets_no_task_text(gh_app: GitHubSandbox, connector: Any, gh_info: dict[str, Any],
                                             http: HttpFactory, ctx: JobContext) -> None:
    secret = "Internal: the admin password is stored in vault path X"
    conn = make_connection(connector, gh_info, alm_project="public-site")
    [made] = adapter_for(conn, http, ctx).create_items([draft(7, text=secret)])
    assert isinstance(made, RemoteItem)
    [sent] = gh_app.requests_to("POST", ISSUES)
    body = json.loads(sent.body)
    assert body["title"] == "T7: Task number 7" and body["body"].startswith(PUBLIC_NOTE)
    assert secret not in sent.body.decode()
    assert any("public" in line for _, line in ctx.lines)
    opted = make_connection(connector, gh_info, alm_project="public-site", github_public_content=True)
    adapter_for(opted, http, ctx).create_items([draft(8, text=secret)])
    assert secret in json.loads(gh_app.requests_to("POST", ISSUES)[-1].body)["body"]


def test_per_item_and_fatal_errors(gh_app: GitHubSandbox, connection: ConnectionSettings, http: HttpFactory,
                                   ctx: JobContext) -> None:
    adapter = adapter_for(connection, http, ctx)
    long_title = ItemDraft("T9", "T9: " + "x" * 300, "text", 8, [], False)
    results = adapter.create_items([draft(1), long_title, draft(2)])
    assert isinstance(results[0], RemoteItem) and isinstance(results[2], RemoteItem)
    assert isinstance(results[1], UserFacingError) and "too long" in str(results[1])
    gh_app.world.tokens.pop(gh_app.tokens["admin"])  # the token is revoked mid-sync
    sent_before = len(gh_app.requests_to("POST", ISSUES))
    results = adapter.create_items([draft(3), draft(4), draft(5)])
    assert all(isinstance(r, AuthError) for r in results)
    assert len(gh_app.requests_to("POST", ISSUES)) == sent_before + 1  # the others were not even sent


def test_prepare_errors(connector: Any, gh_info: dict[str, Any], http: HttpFactory, ctx: JobContext,
                        gh_app: GitHubSandbox) -> None:
    cases: list[tuple[dict[str, Any], type[Exception], str]] = [
        ({"alm_project": "legacy"}, ConfigError, "alm_project"),
        ({"alm_project": "nope"}, ConfigError, "alm_project"),
        ({"alm_project_version": "v5"}, ConfigError, "alm_project_version"),
        ({"alm_priority_map": "{}"}, ConfigError, "alm_priority_map"),
        ({"github_repo_owner": "other-org", "alm_project": "shared-lib"}, AuthError, "alm_api_token"),
    ]
    for params, kind, field in cases:
        with pytest.raises(kind) as caught:
            SYSTEM.sync_adapter(make_connection(connector, gh_info, **params), http, ctx).prepare()
        assert isinstance(caught.value, UserFacingError) and caught.value.field == field, params


def test_cancel_stops_creating(gh_info: dict[str, Any], http: HttpFactory, gh_app: GitHubSandbox) -> None:
    cancel = threading.Event()
    ctx = JobContext(cancel_event=cancel)
    adapter = adapter_for(make_connection(make_connector(gh_info), gh_info), http, ctx)
    [first] = adapter.create_items([draft(1)])
    assert isinstance(first, RemoteItem)
    cancel.set()
    results = adapter.create_items([draft(2), draft(3)])
    assert all(isinstance(r, CancelledError) for r in results)
    assert len(gh_app.requests_to("POST", ISSUES)) == 1


class CancelInPause(JobContext):
    """A job context that is cancelled as its first pause begins (the user clicks Cancel meanwhile)."""

    def __init__(self) -> None:
        super().__init__()
        self.pauses: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.cancel()
        super().sleep(seconds)  # wakes at once: cancelled


def test_cancel_during_a_pause_between_writes(gh_info: dict[str, Any], http: HttpFactory) -> None:
    ctx = CancelInPause()
    adapter = adapter_for(make_connection(make_connector(gh_info, github_write_pace_ms=60000), gh_info), http, ctx)
    results = adapter.create_items([draft(1), draft(2)])  # the second waits a minute, unless cancelled
    assert len(ctx.pauses) == 1 and 59 < ctx.pauses[0] <= 60, ctx.pauses  # the pace's minute, cut short
    assert isinstance(results[0], RemoteItem) and isinstance(results[1], CancelledError)


class FastContext(JobContext):
    """A job context whose waits return at once (fault injection does not depend on time)."""

    def __init__(self) -> None:
        super().__init__()
        self.waits: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.mark.parametrize("spec", ["500:0.08,502:0.05,503:0.05,429:0.05,reset:0.06"])
def test_sync_survives_faults_without_duplicates(spec: str) -> None:
    app = create(seed=9, issues=30)
    server = serve(app, faults=Faults.parse(spec, seed=4))
    try:
        info = server.describe()
        ctx = FastContext()
        conn = make_connection(make_connector(info), info)
        adapter = adapter_for_retrying(lambda: adapter_for(conn, HttpFactory(), ctx))
        drafts = [draft(500 + i, done=i % 4 == 0) for i in range(24)]
        results: list[Any] = []
        for start in range(0, len(drafts), adapter.bulk_size):
            results += adapter.create_items(drafts[start:start + adapter.bulk_size])
        created = [r for r in results if isinstance(r, RemoteItem)]
        repo = app.world.repo("almdesk-demo", "webapp")
        assert repo is not None
        titles = [i.title for i in repo.issues.values() if i.title.startswith("T5")]
        assert len(titles) == len(set(titles))  # never created twice
        assert len(created) == len(drafts), [str(r) for r in results if not isinstance(r, RemoteItem)]
        assert sum(app.faults.counts.values()) > 0 if app.faults else False
        assert any("retrying" in line or "trying again" in line or "waiting" in line for _, line in ctx.lines)
    finally:
        stop_soon(server)


def adapter_for_retrying(make: Callable[[], Any]) -> Any:
    for _ in range(5):
        try:
            return make()
        except UserFacingError:
            continue
    return make()
