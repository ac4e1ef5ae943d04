"""The Octane sync adapter per the SyncAdapter contract: prepare, paged listing, bulk create, close/reopen."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from almdesk.base.records import ItemDraft, RemoteItem
from almdesk.errors import ConfigError
from almdesk.jobs.context import JobContext
from almdesk.net.session import HttpFactory
from almdesk.sandbox.base import SandboxServer
from almdesk.systems.octane import SYSTEM
from tests.octane.conftest import app_of, connection_for, connector_for

WS = "/api/shared_spaces/1001/workspaces/1002"


def calls(server: SandboxServer, since: int, method: str, collection: str) -> int:
    return sum(1 for m, path, _ in app_of(server).log[since:]
               if m == method and path.split("?")[0] == f"{WS}/{collection}")


def draft(n: int, done: bool = False, priority: int = 8) -> ItemDraft:
    return ItemDraft(task_id=f"T{n}", title=f"T{n}: task number {n}", text=f"Do thing {n}", priority=priority,
                     tags=[], done=done)


def test_contract_sizes() -> None:
    from almdesk.systems.octane.sync import OctaneSyncAdapter

    assert OctaneSyncAdapter.bulk_size == 200 and OctaneSyncAdapter.page_size == 1000


def test_iter_items_pages_and_done_flags(server: SandboxServer, http: HttpFactory, ctx: JobContext) -> None:
    adapter = SYSTEM.sync_adapter(connection_for(connector_for(server), server), http, ctx)
    adapter.page_size = 40
    adapter.prepare()
    mark = len(app_of(server).log)
    items = list(adapter.iter_items())
    assert calls(server, mark, "GET", "defects") == 3  # ceil(90 / 40)
    assert len(items) == 90 and len({i.ref for i in items}) == 90
    store = app_of(server).site.workspaces["1002"].of_type("work_item")
    for item in items:
        phase = store[item.ref]["phase"]["id"]
        assert item.done is (phase in {"phase.defect.closed", "phase.defect.rejected", "phase.defect.duplicate"})
        assert item.updated is not None and item.updated.tzinfo is not None
        assert item.key == item.ref and item.url.endswith(f"id={item.ref}")
    assert {i.status for i in items} >= {"New", "Opened", "Closed"}
    adapter.close()


def test_create_items_in_one_request_and_close_done_ones(server: SandboxServer, http: HttpFactory,
                                                         ctx: JobContext) -> None:
    adapter = SYSTEM.sync_adapter(connection_for(connector_for(server), server), http, ctx)
    adapter.prepare()
    mark = len(app_of(server).log)
    drafts = [draft(1), draft(2, done=True, priority=10), draft(3, priority=2)]
    out = adapter.create_items(drafts)
    assert calls(server, mark, "POST", "defects") == 1
    # one bulk PUT per workflow step for the done draft: New → Opened → Fixed → Proposed Closed → Closed
    assert calls(server, mark, "PUT", "defects") == 4
    assert calls(server, mark, "GET", "transitions") == 1
    assert all(isinstance(o, RemoteItem) for o in out)
    items = [o for o in out if isinstance(o, RemoteItem)]
    assert [i.title for i in items] == [d.title for d in drafts]
    assert [i.done for i in items] == [False, True, False]
    assert items[1].status == "Closed"
    store = app_of(server).site.workspaces["1002"].of_type("work_item")
    first = store[items[0].ref]
    assert first["is_draft"] is False
    assert first["parent"]["id"] == "1001"
    assert first["severity"]["id"] == "list_node.severity.high"
    assert store[items[1].ref]["severity"]["id"] == "list_node.severity.urgent"
    assert store[items[2].ref]["severity"]["id"] == "list_node.severity.low"
    assert first["detected_by"]["id"] == "1002"
    assert first["description"] == "<p>Do thing 1</p>"
    reopened = adapter.set_done(items[1], False)
    assert not reopened.done and reopened.status == "Opened"
    closed = adapter.set_done(items[0], True)
    assert closed.done and closed.status == "Closed"
    found = {i.ref: i for i in adapter.iter_items()}
    assert found[items[0].ref].done and not found[items[1].ref].done
    adapter.close()


def test_partial_failure_returns_errors_in_place(server: SandboxServer, http: HttpFactory, ctx: JobContext) -> None:
    adapter = SYSTEM.sync_adapter(connection_for(connector_for(server), server), http, ctx)
    drafts = [draft(1), ItemDraft("T2", "   ", "", 5, [], False), draft(3, done=True)]
    out = adapter.create_items(drafts)
    assert isinstance(out[0], RemoteItem) and isinstance(out[2], RemoteItem)
    assert isinstance(out[1], Exception) and "Name" in str(out[1])
    assert out[2].done
    adapter.close()


def test_full_bulk_of_200_is_one_post(make_server: Callable[..., SandboxServer], http: HttpFactory,
                                      ctx: JobContext) -> None:
    server = make_server(defects=10)
    adapter = SYSTEM.sync_adapter(connection_for(connector_for(server), server), http, ctx)
    adapter.prepare()
    mark = len(app_of(server).log)
    out = adapter.create_items([draft(n) for n in range(200)])
    assert calls(server, mark, "POST", "defects") == 1
    assert sum(isinstance(o, RemoteItem) for o in out) == 200
    with pytest.raises(ValueError):
        adapter.create_items([draft(n) for n in range(201)])
    assert len(list(adapter.iter_items())) == 210
    adapter.close()


def test_stories_under_a_parent_feature(server: SandboxServer, http: HttpFactory, ctx: JobContext) -> None:
    store = app_of(server).site.workspaces["1002"].of_type("work_item")
    feature = next(e for e in store.values() if e["subtype"] == "feature")
    under = [e for e in store.values() if e["subtype"] == "story" and (e["parent"] or {}).get("id") == feature["id"]]
    connection = connection_for(connector_for(server), server, item_type="story", parent=feature["id"],
                                done_phases="")
    adapter = SYSTEM.sync_adapter(connection, http, ctx)
    items = list(adapter.iter_items())
    assert sorted(i.ref for i in items) == sorted(e["id"] for e in under)
    created = adapter.create_items([draft(7, done=True, priority=9)])[0]
    assert isinstance(created, RemoteItem) and created.done and created.status == "Done"
    entity = store[created.ref]
    assert entity["subtype"] == "story" and entity["parent"]["id"] == feature["id"]
    assert entity["priority"]["id"] == "list_node.priority.urgent" and entity["owner"]["id"] == "1002"
    adapter.close()


def test_prepare_lists_valid_values(server: SandboxServer, http: HttpFactory, ctx: JobContext) -> None:
    connector = connector_for(server)
    adapter = SYSTEM.sync_adapter(connection_for(connector, server, done_phases="Closed,Finished"), http, ctx)
    with pytest.raises(ConfigError) as info:
        adapter.prepare()
    assert info.value.field == "done_phases" and "Proposed Closed" in info.value.hint
    adapter.close()
    bad_user = SYSTEM.sync_adapter(connection_for(connector_for(server, user="ghost"), server), http, ctx)
    with pytest.raises(ConfigError) as info:
        bad_user.prepare()
    assert info.value.field == "user"
    bad_user.close()
