"""The Jira sync adapter against the sandbox: listing in pages, bulk create, close/reopen by name."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC

import pytest

from almdesk.base.records import ItemDraft, RemoteItem
from almdesk.errors import ConfigError, UserFacingError
from almdesk.jobs.context import JobContext
from almdesk.net.session import HttpFactory
from almdesk.sandbox.base import SandboxServer
from almdesk.sandbox.jira.app import RateLimiter
from almdesk.systems.jira import SYSTEM
from almdesk.systems.jira.sync import JiraSyncAdapter, parse_time
from almdesk.systems.marks import context_mark
from tests.jira.conftest import app_of, connection_for, connector_for


def adapter_for(server: SandboxServer, http: HttpFactory, **params: object) -> JiraSyncAdapter:
    connection = connection_for(connector_for(server), server, **params)
    adapter = SYSTEM.sync_adapter(connection, http, JobContext())
    assert isinstance(adapter, JiraSyncAdapter)
    return adapter


def labelled(server: SandboxServer, label: str = "SD-Elements") -> list[str]:
    data = app_of(server).data
    demo = data.project("DEMO")
    assert demo is not None
    return sorted((i.key for i in data.issues.values() if i.project == demo.id and label in i.labels),
                  key=lambda k: int(k.split("-")[1]))


def test_iter_items_lists_every_labelled_issue(jira: SandboxServer, http: HttpFactory) -> None:
    adapter = adapter_for(jira, http)
    adapter.prepare()
    items = list(adapter.iter_items())
    assert [i.key for i in items] == labelled(jira)
    data = app_of(jira).data
    for item in items:
        issue = data.issue(item.key)
        assert issue is not None
        status = data.statuses[issue.status].name
        assert item.title == issue.summary and item.status == status
        assert item.done == (status in ("Resolved", "Closed"))
        assert item.updated is not None and item.updated.tzinfo is not None
        assert item.updated.replace(microsecond=0) == issue.updated.replace(microsecond=(issue.updated.microsecond
                                                                                         // 1000) * 1000,
                                                                            ).replace(microsecond=0)
        assert item.url.endswith(f"/browse/{item.key}")
    adapter.close()


def test_pages_are_big_and_few(sandbox_factory: Callable[..., SandboxServer], http: HttpFactory) -> None:
    for mode, page in (("cloud", 100), ("dc", 1000)):
        server = sandbox_factory(mode, issues=150)
        adapter = adapter_for(server, http)
        adapter.prepare()
        assert adapter.page_size == page
        app = app_of(server)
        before = len(app.log)
        items = list(adapter.iter_items())
        reads = [p for _, p, _ in app.log[before:] if "/search" in p]
        assert len(items) == len(labelled(server)) > 90
        assert len(reads) == -(-len(items) // page)


def test_paging_when_the_server_caps_pages(sandbox_factory: Callable[..., SandboxServer],
                                           http: HttpFactory) -> None:
    for mode in ("cloud", "dc"):
        server = sandbox_factory(mode, issues=30, max_results=4)
        adapter = adapter_for(server, http)
        adapter.prepare()
        keys = [i.key for i in adapter.iter_items()]
        assert keys == labelled(server)
        reads = [p for _, p, _ in app_of(server).log if "/search" in p and "approximate" not in p]
        assert len(reads) >= len(keys) // 4


def test_create_items_in_one_bulk_request(jira: SandboxServer, http: HttpFactory) -> None:
    adapter = adapter_for(jira, http)
    adapter.prepare()
    app = app_of(jira)
    drafts = [ItemDraft("T101", "T101: Use TLS", "Do it.\n\nReally.", 9, ["needs review", "crypto"], False),
              ItemDraft("T102", "T102: bad\ntitle", "", 5, [], False),
              ItemDraft("T103", 'T103: Quote "this" \\ and ~that:', "x", 2, [], True)]
    before = len(app.log)
    results = adapter.create_items(drafts)
    writes = [(m, p, s) for m, p, s in app.log[before:] if m == "POST"]
    assert writes[0][1].endswith("/issue/bulk?") and writes[0][2] == 201
    first, second, third = results
    assert isinstance(first, RemoteItem) and not first.done and first.title == drafts[0].title
    assert first.status == "Open"  # the status the first new issue starts in, read once with its transitions
    reads = [p for m, p, _ in app.log[before:] if m == "GET"]
    assert len(reads) == 1 and "/issue/" in reads[0] and "transitions" in reads[0]  # no separate look-up
    assert isinstance(second, ConfigError) and "newline" in second.message
    assert isinstance(third, RemoteItem) and third.done and third.status == "Closed"
    issue = app.data.issue(first.key)
    # the connection's label, the context mark (the empty context's), the task's tags
    assert issue is not None and issue.labels == ["SD-Elements", context_mark(""), "needs-review", "crypto"]
    assert first.marks == (context_mark(""),)
    assert issue.description == "Do it.\n\nReally."
    high = app.data.priorities[1][1]  # priority 9 -> Critical (DC) / High (Cloud)
    assert app.data.priority_name(issue.priority) == high
    third_issue = app.data.issue(third.key)
    assert third_issue is not None and third_issue.summary == drafts[2].title
    assert app.data.priority_name(third_issue.priority) == app.data.priorities[-1][1]
    listed = {i.key: i for i in adapter.iter_items()}
    assert list(listed)[-2:] == [first.key, third.key]
    assert listed[first.key].status == "Open" and listed[third.key].status == "Closed"


def test_create_items_all_failing(jira: SandboxServer, http: HttpFactory) -> None:
    adapter = adapter_for(jira, http)
    adapter.prepare()
    results = adapter.create_items([ItemDraft("T1", "", "", 5, [], False), ItemDraft("T2", "x" * 300, "", 5, [],
                                                                                       False)])
    assert all(isinstance(r, UserFacingError) for r in results)


def test_set_done_and_reopen(jira: SandboxServer, http: HttpFactory) -> None:
    adapter = adapter_for(jira, http)
    adapter.prepare()
    item = next(i for i in adapter.iter_items() if not i.done)
    closed = adapter.set_done(item, True)
    assert closed.done and closed.status == "Closed"
    reopened = adapter.set_done(closed, False)
    assert not reopened.done and reopened.status == "Reopened"
    assert reopened.updated is not None and closed.updated is not None and reopened.updated >= closed.updated


def test_resolve_transition_fills_required_resolution(jira: SandboxServer, http: HttpFactory) -> None:
    adapter = adapter_for(jira, http, jira_close_transition="Resolve Issue")
    adapter.prepare()
    item = next(i for i in adapter.iter_items() if i.status in ("Open", "Reopened", "In Progress"))
    done = adapter.set_done(item, True)
    issue = app_of(jira).data.issue(done.key)
    assert done.status == "Resolved" and done.done and issue is not None and issue.resolution is not None


def test_unknown_transition_lists_valid_names(jira: SandboxServer, http: HttpFactory) -> None:
    adapter = adapter_for(jira, http, jira_reopen_transition="Revive")
    adapter.prepare()
    item = next(i for i in adapter.iter_items() if i.done)
    with pytest.raises(ConfigError) as info:
        adapter.set_done(item, False)
    assert info.value.field == "jira_reopen_transition" and "Reopen Issue" in info.value.hint


def test_prepare_checks_names(jira: SandboxServer, http: HttpFactory) -> None:
    with pytest.raises(ConfigError) as info:
        adapter_for(jira, http, jira_issue_type="Bogus").prepare()
    assert info.value.field == "jira_issue_type" and "Bug" in info.value.hint
    with pytest.raises(ConfigError) as info:
        adapter_for(jira, http, jira_done_statuses="Finished").prepare()
    assert info.value.field == "jira_done_statuses" and "Resolved" in info.value.hint
    with pytest.raises(ConfigError) as info:
        adapter_for(jira, http, alm_priority_map='{"1-5": "Low", "6-10": "Urgent"}').prepare()
    assert info.value.field == "alm_priority_map" and "Urgent" in info.value.message


def test_sub_tasks_are_scoped_to_their_parent(jira: SandboxServer, http: HttpFactory) -> None:
    adapter = adapter_for(jira, http, jira_issue_type="Sub-task", alm_parent_issue="DEMO-3", alm_issue_label="",
                          jira_done_statuses="Done", jira_close_transition="Done", jira_reopen_transition="To Do")
    adapter.prepare()
    assert list(adapter.iter_items()) == []
    (made,) = adapter.create_items([ItemDraft("T5", "T5: child", "", 5, [], True)])
    assert isinstance(made, RemoteItem) and made.done and made.status == "Done"
    assert [i.key for i in adapter.iter_items()] == [made.key]


def test_retry_after_is_honoured(sandbox_factory: Callable[..., SandboxServer]) -> None:
    server = sandbox_factory("cloud", rate_limit=(3, 2.0))
    http = HttpFactory(retries=3, backoff=0.01)
    adapter = adapter_for(server, http)
    adapter.prepare()  # more than 3 requests: some got 429 + Retry-After and were retried
    items = list(adapter.iter_items())
    statuses = [s for _, _, s in app_of(server).log]
    assert 429 in statuses and items
    assert all(s in (200, 201, 204, 429) for s in statuses)
    app = app_of(server)
    app.limiter = RateLimiter(1, 1.0)
    app.limiter.check(app.admin.key)  # the bucket is empty: the bulk POST meets 429 + Retry-After first
    before = len(app.log)
    (made,) = adapter.create_items([ItemDraft("T9", "T9: paced", "", 5, [], False)])
    assert isinstance(made, RemoteItem)
    posts = [s for m, p, s in app.log[before:] if p.endswith("/issue/bulk?")]
    assert posts == [429, 201]


def test_parse_time() -> None:
    moment = parse_time("2025-01-07T10:11:12.345+0100")
    assert moment is not None and moment.utcoffset() is not None
    assert moment.astimezone(UTC).hour == 9
    assert parse_time("") is None and parse_time("yesterday") is None


def test_closing_new_items_costs_one_post_each(jira: SandboxServer, http: HttpFactory) -> None:
    adapter = adapter_for(jira, http)
    adapter.prepare()
    app = app_of(jira)
    before = len(app.log)
    made = adapter.create_items([ItemDraft(f"T{n}", f"T{n}: done already", "", 5, [], True) for n in range(60, 64)])
    assert all(isinstance(m, RemoteItem) and m.done and m.status == "Closed" for m in made)
    calls = [(m, p.split("?")[0].rsplit("/", 1)[-1]) for m, p, _ in app.log[before:]]
    assert calls.count(("POST", "transitions")) == 4
    assert calls.count(("GET", "transitions")) == 0  # the first new issue came with its transitions
    assert calls[1] == ("GET", made[0].key)
    assert len(calls) == 1 + 1 + 4  # bulk, the first new issue, 4 transitions (their "to" is the new status)
    more = adapter.create_items([ItemDraft("T64", "T64: next chunk", "", 5, [], True)])
    calls = [(m, p.split("?")[0].rsplit("/", 1)[-1]) for m, p, _ in app.log[before:]][6:]
    assert calls == [("POST", "bulk"), ("POST", "transitions")] and more[0].status == "Closed"  # once a sync


def test_new_issues_are_not_read_back(sandbox_factory: Callable[..., SandboxServer], http: HttpFactory) -> None:
    server = sandbox_factory("cloud", search_lag=2)
    adapter = adapter_for(server, http)
    adapter.prepare()
    before = len(app_of(server).log)
    (made,) = adapter.create_items([ItemDraft("T70", "T70: lagging index", "", 5, [], False)])
    log = app_of(server).log[before:]
    assert [m for m, _, _ in log] == ["POST", "GET"]  # the bulk create and its first issue, no search after it
    assert "/issue/" in log[1][1] and "search" not in log[1][1]
    assert isinstance(made, RemoteItem) and made.title == "T70: lagging index" and not made.done
    assert made.status == "Open"
    for _ in range(2):
        assert made.key not in [i.key for i in adapter.iter_items()]  # the search index lags behind
    assert made.key in [i.key for i in adapter.iter_items()]  # …for a while (2 searches here)


def test_status_of_new_issues_unreadable_leaves_them_created(jira: SandboxServer, http: HttpFactory,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    adapter = adapter_for(jira, http)
    adapter.prepare()
    logged: list[str] = []
    monkeypatch.setattr(adapter.ctx, "log", lambda text, level="info": logged.append(text))

    def failing(*args: object, **kwargs: object) -> None:
        raise UserFacingError("Jira did not answer in time.", "Try again.")

    monkeypatch.setattr(adapter.client, "issue", failing)
    made = adapter.create_items([ItemDraft("T80", "T80: status unknown", "", 5, [], False),
                                 ItemDraft("T81", "T81: done", "", 5, [], True)])
    assert [type(m) for m in made] == [RemoteItem, RemoteItem]
    first, second = made
    assert isinstance(first, RemoteItem) and first.status == "" and not first.done  # left to the next listing
    assert isinstance(second, RemoteItem) and second.done and second.status == "Closed"  # closed all the same
    assert any("could not read its status" in text for text in logged)
