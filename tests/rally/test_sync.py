"""Rally sync adapter against the sandbox: prepare, paged listing, batch create, close/reopen.

Each test syncs under a tag of its own so tests sharing the module's server do not see each
other's items.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from almdesk.base.records import ItemDraft, RemoteItem
from almdesk.base.settings import ConnectorSettings
from almdesk.errors import CancelledError, ConfigError
from almdesk.jobs.context import JobContext
from almdesk.net.session import HttpFactory
from almdesk.sandbox.base import json_response
from almdesk.sandbox.rally import RallyApp
from almdesk.systems.rally import SYSTEM
from almdesk.systems.rally.sync import RallySyncAdapter
from tests.rally.conftest import make_connection


def adapter(connector: ConnectorSettings, desc: dict[str, Any], http: HttpFactory, ctx: JobContext,
            **params: Any) -> RallySyncAdapter:
    connection = make_connection(connector, {**desc["connection_params"], **params})
    made = SYSTEM.sync_adapter(connection, http, ctx)
    assert isinstance(made, RallySyncAdapter)
    return made


def draft(n: int, done: bool = False, priority: int = 8, title: str | None = None) -> ItemDraft:
    return ItemDraft(task_id=f"T{n}", title=f"T{n}: Task number {n}" if title is None else title,
                     text=f"Do thing {n}\nwith <care> & attention", priority=priority, tags=[], done=done)


def project_items(app: RallyApp, element: str, project: str = "Online Store") -> list[dict[str, Any]]:
    proj = app.store.find("Project", Name=project)
    assert proj is not None
    return [o for o in app.store.by_type[element].values() if o["Project"] == proj["ObjectID"]]


def test_lists_every_story_of_the_project_in_pages(connector: ConnectorSettings, rally_desc: dict[str, Any],
                                                   http: HttpFactory, ctx: JobContext, rally_app: RallyApp) -> None:
    sync = adapter(connector, rally_desc, http, ctx)
    sync.prepare()
    sync.page_size = 7
    before = http.requests
    items = list(sync.iter_items())
    expected = project_items(rally_app, "HierarchicalRequirement")
    assert sorted(i.key for i in items) == sorted(o["FormattedID"] for o in expected)
    assert http.requests - before == math.ceil(len(expected) / 7)
    sample = next(i for i in items if i.title.startswith("T21:"))
    assert sample.updated is not None and sample.updated.tzinfo is not None
    assert sample.done == (sample.status in ("Completed", "Accepted"))
    assert sample.url.endswith(f"/detail/userstory/{sample.ref}")
    sync.close()


def test_batch_create_close_reopen_under_a_tag(connector: ConnectorSettings, rally_desc: dict[str, Any],
                                              http: HttpFactory, ctx: JobContext, rally_app: RallyApp) -> None:
    sync = adapter(connector, rally_desc, http, ctx, alm_issue_label="almdesk-sync-a")
    sync.prepare()
    assert list(sync.iter_items()) == []  # the tag does not exist yet
    before = http.requests
    created = sync.create_items([draft(1), draft(2, done=True), draft(3)])
    assert http.requests - before == 4  # tag lookup, tag create, the context mark's tag create, one batch
    assert all(isinstance(c, RemoteItem) for c in created)
    items = [c for c in created if isinstance(c, RemoteItem)]
    assert [i.done for i in items] == [False, True, False]
    assert [i.status for i in items] == ["Defined", "Completed", "Defined"]
    stored = rally_app.store.get(int(items[0].ref))
    assert stored is not None and stored["Description"] == "<p>Do thing 1<br />with &lt;care&gt; &amp; attention</p>"
    listed = {i.key: i for i in sync.iter_items()}
    assert set(listed) == {i.key for i in items}
    closed = sync.set_done(items[0], True)
    assert closed.done and closed.status == "Completed"
    reopened = sync.set_done(items[1], False)
    assert not reopened.done and reopened.status == "Defined"
    assert reopened.updated is not None and reopened.updated >= items[1].updated  # type: ignore[operator]
    sync.close()


def test_partial_failure_reports_per_draft(connector: ConnectorSettings, rally_desc: dict[str, Any],
                                           http: HttpFactory, ctx: JobContext) -> None:
    sync = adapter(connector, rally_desc, http, ctx, alm_issue_label="almdesk-sync-b")
    sync.prepare()
    created = sync.create_items([draft(4), draft(5, title=""), draft(6)])
    assert isinstance(created[0], RemoteItem) and isinstance(created[2], RemoteItem)
    assert isinstance(created[1], Exception) and "T5" in str(created[1]) and "Name" in str(created[1])
    assert len(list(sync.iter_items())) == 2
    sync.close()


def test_tasks_go_under_the_parent_story(connector: ConnectorSettings, rally_desc: dict[str, Any],
                                         http: HttpFactory, ctx: JobContext, rally_app: RallyApp) -> None:
    parent = rally_app.info.parent_story
    sync = adapter(connector, rally_desc, http, ctx, rally_card_type="Task", alm_parent_issue=parent,
                   rally_done_statuses="Completed")
    sync.prepare()
    existing = list(sync.iter_items())
    parent_obj = rally_app.store.find("HierarchicalRequirement", FormattedID=parent)
    assert parent_obj is not None
    under_parent = [t for t in rally_app.store.by_type["Task"].values()
                    if t["WorkProduct"] == parent_obj["ObjectID"]]
    assert sorted(i.key for i in existing) == sorted(t["FormattedID"] for t in under_parent)
    made = sync.create_items([draft(7, done=True)])
    assert isinstance(made[0], RemoteItem) and made[0].key.startswith("TA") and made[0].done
    task = rally_app.store.get(int(made[0].ref))
    assert task is not None and task["WorkProduct"] == parent_obj["ObjectID"] and task["State"] == "Completed"
    sync.close()


def test_defects_get_priorities_from_the_map(connector: ConnectorSettings, rally_desc: dict[str, Any],
                                             http: HttpFactory, ctx: JobContext, rally_app: RallyApp) -> None:
    sync = adapter(connector, rally_desc, http, ctx, rally_card_type="Defect", alm_issue_label="almdesk-sync-c",
                   alm_priority_map='{"1-4":"Low","5-8":"Normal","9-10":"Resolve Immediately"}')
    sync.prepare()
    made = sync.create_items([draft(8, priority=9), draft(9, priority=5)])
    priorities = [rally_app.store.get(int(m.ref))["Priority"] for m in made if isinstance(m, RemoteItem)]  # type: ignore[index]
    assert priorities == ["Resolve Immediately", "Normal"]
    sync.close()


def test_prepare_fails_with_the_valid_choices(connector: ConnectorSettings, rally_desc: dict[str, Any],
                                              http: HttpFactory, ctx: JobContext) -> None:
    for params, field in (({"rally_workspace": "Nowhere"}, "rally_workspace"),
                          ({"alm_project": "Nowhere"}, "alm_project"),
                          ({"rally_done_statuses": "Shipped"}, "rally_done_statuses"),
                          ({"rally_card_type": "Task", "rally_done_statuses": "Completed"}, "alm_parent_issue"),
                          ({"rally_card_type": "Defect", "alm_priority_map": '{"1-5":"Low"}'}, "alm_priority_map")):
        sync = adapter(connector, rally_desc, http, ctx, **params)
        with pytest.raises(ConfigError) as exc:
            sync.prepare()
        sync.close()
        assert exc.value.field == field and exc.value.hint


def test_listing_stops_when_cancelled(connector: ConnectorSettings, rally_desc: dict[str, Any],
                                      http: HttpFactory) -> None:
    ctx = JobContext()
    sync = adapter(connector, rally_desc, http, ctx)
    sync.prepare()
    ctx.cancel()
    with pytest.raises(CancelledError):
        list(sync.iter_items())
    sync.close()


def test_more_drafts_than_a_batch_are_split(connector: ConnectorSettings, rally_desc: dict[str, Any],
                                           http: HttpFactory, ctx: JobContext) -> None:
    sync = adapter(connector, rally_desc, http, ctx, alm_issue_label="almdesk-sync-d")
    sync.prepare()
    sync.create_items([draft(100)])  # creates the tag
    before = http.requests
    made = sync.create_items([draft(n) for n in range(101, 101 + sync.bulk_size + 5)])
    assert http.requests - before == 2
    assert len(made) == sync.bulk_size + 5 and all(isinstance(m, RemoteItem) for m in made)
    assert len(list(sync.iter_items())) == sync.bulk_size + 6
    sync.close()


def test_prepare_costs_four_requests_and_falls_back_where_rally_will_not_query_or_batch(
        connector: ConnectorSettings, rally_desc: dict[str, Any], http: HttpFactory, ctx: JobContext,
        rally_app: RallyApp) -> None:
    sync = adapter(connector, rally_desc, http, ctx)
    before = http.requests
    sync.prepare()  # the workspace; one /batch (project, type definition); the status attribute; its values
    assert http.requests - before == 4
    workspace, project = sync.workspace, sync.project
    sync.close()
    original = rally_app.dispatch

    def no_workspace_query(request: Any) -> Any:
        if request.method == "GET" and request.path.rstrip("/").endswith("/workspace"):
            return json_response({"QueryResult": {"Errors": ["Could not read: workspace queries are not allowed"],
                                                  "Warnings": [], "TotalResultCount": 0, "Results": []}})
        return original(request)

    def no_read_batch(request: Any) -> Any:
        if request.method == "POST" and request.path.rstrip("/").endswith("/batch") and \
                all(e["Entry"].get("Method") == "GET" for e in (request.get_json(silent=True) or {}).get("Batch", [])):
            return json_response({"BatchResult": {"Errors": ["Batch entries must be writes"], "Warnings": [],
                                                  "Results": []}})
        return original(request)

    try:
        rally_app.dispatch = no_workspace_query  # type: ignore[method-assign]
        sync = adapter(connector, rally_desc, http, ctx)
        before = http.requests
        sync.prepare()  # falls back to the subscription's workspace list: 2 requests instead of 1
        assert (sync.workspace, sync.project) == (workspace, project)
        assert http.requests - before == 1 + 2 + 3
        sync.close()
        rally_app.dispatch = no_read_batch  # type: ignore[method-assign]
        sync = adapter(connector, rally_desc, http, ctx)
        before = http.requests
        sync.prepare()  # the refused batch, then its three queries (the context mark's tag too) one by one
        assert (sync.workspace, sync.project) == (workspace, project)
        assert http.requests - before == 1 + 1 + 3 + 2
        sync.close()
    finally:
        rally_app.dispatch = original  # type: ignore[method-assign]
