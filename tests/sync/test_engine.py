"""Engine behaviour over the toy ALM: chunking, failures, global stops, journal, lock, cancel, links."""

from __future__ import annotations

import math
import socket
import threading
from collections.abc import Sequence

import pytest
from sqlalchemy import select
from werkzeug.wrappers import Request, Response

from almdesk.base.records import ItemDraft, RemoteItem
from almdesk.base.settings import ConnectionSettings
from almdesk.errors import AuthError, ConfigError, RemoteError
from almdesk.jobs.context import JobContext, JobEvent
from almdesk.models import Connection, JournalEntry
from almdesk.net.session import HttpFactory, send
from almdesk.sandbox.base import Faults, json_response
from almdesk.sync.failing import unreachable
from almdesk.sync.journal import Journal, SyncLock
from tests.sync.harness import Handler, SyncEnv, intercept, tasks
from tests.sync.toyalm import ToyAlmAdapter, ToyAlmApp, ToyAlmSystem


def _app(env: SyncEnv) -> ToyAlmApp:
    assert isinstance(env.target.app, ToyAlmApp)
    return env.target.app


def _posts(env: SyncEnv, fragment: str) -> int:
    return sum(1 for method, path, _ in _app(env).log if method == "POST" and fragment in path)


def test_creates_in_chunks_and_noop_resync_reads_in_pages(toy: SyncEnv) -> None:
    ids = [f"T{i}" for i in range(1, 24)]
    alias = toy.connection(toy.project(tasks(*ids)), toyalm_bulk_size=5, toyalm_page_size=10)
    result = toy.sync(alias)
    assert result.state == "succeeded", result.outcome.message
    assert _posts(toy, "/bulk") == math.ceil(23 / 5)
    assert result.outcome.data["requests"] <= math.ceil(23 / 5) + 1 + 2  # whoami + one empty page
    toy.target.app.log.clear()
    again = toy.sync(alias)
    assert again.outcome.counts["unchanged"] == 23
    assert again.outcome.data["requests"] == 1 + math.ceil(23 / 10)  # whoami + pages, no writes
    assert _posts(toy, "") == 0


def test_default_title_format_and_duplicates_in_the_alm(toy: SyncEnv) -> None:
    alias = toy.connection(toy.project(tasks("T2", "T5")), alm_title_format="$task_id $title")
    app = _app(toy)
    app.add("T222: someone else's")
    first = app.add("T5: found by title")
    app.add("T5: a duplicate made by hand")
    ctx = JobContext()
    result = toy.sync(alias, ctx=ctx)
    assert result.outcome.counts == {**result.outcome.counts, "created": 1, "linked": 1}
    assert any("2 items have the title of task T5" in line for _, line in ctx.lines)
    assert {link.alm_ref for link in toy.links(alias).values()} >= {str(first.id)}
    assert sorted(app.titles()) == sorted(["T222: someone else's", "T5: found by title",
                                           "T5: a duplicate made by hand", "T2: Task T2"])


def test_one_failing_item_does_not_stop_the_others(toy: SyncEnv) -> None:
    project = toy.project([{"task_id": "T1"}, {"task_id": "T2", "title": "Bad [reject] title"}, {"task_id": "T3"}])
    alias = toy.connection(project, toyalm_bulk_size=1)
    result = toy.sync(alias)
    assert result.state == "failed"
    assert result.outcome.counts["created"] == 2 and result.outcome.counts["failed"] == 1
    assert "1 failed" in result.outcome.message
    failed = [e for e in toy.events(result) if e.status == "failed"]
    assert len(failed) == 1 and failed[0].item.startswith("T2") and "rejected" in failed[0].message
    # the failed creation stays journaled (its task has no link); the rest is settled
    with toy.store.session() as s:
        left = s.scalars(select(JournalEntry)).all()
    assert [(e.op, e.state) for e in left] == [("create", "failed")]
    assert sorted(toy.alm_items(alias)) == ["T1", "T3"]


def test_auth_failure_stops_the_sync_and_the_next_one_resumes(toy: SyncEnv) -> None:
    app = _app(toy)
    ids = [f"T{i}" for i in range(1, 11)]
    alias = toy.connection(toy.project(tasks(*ids)), toyalm_bulk_size=2)
    posts = 0

    def revoke_after_first_chunk(request: Request, call: Handler) -> Response:
        nonlocal posts
        response = call(request)
        if request.method == "POST":
            posts += 1
            if posts == 1:
                app.token = "revoked"
        return response

    intercept(app, revoke_after_first_chunk)
    result = toy.sync(alias)
    assert result.state == "failed" and isinstance(result.error, AuthError)
    assert "stopped" in result.outcome.message and "refused the token" in result.outcome.message
    assert result.outcome.counts["created"] == 2 and result.outcome.counts["failed"] == 2
    assert _posts(toy, "/bulk") == 2  # stopped at the first refused chunk
    app.token = "toyalm-secret-token-42"
    again = toy.sync(alias)
    assert again.state == "succeeded", again.outcome.message
    assert again.outcome.counts["created"] == 8
    items = toy.alm_items(alias)
    assert sorted(items) == sorted(ids) and all(len(v) == 1 for v in items.values())


def test_server_failures_in_a_row_stop_the_sync(toy: SyncEnv) -> None:
    app = _app(toy)
    alias = toy.connection(toy.project(tasks(*[f"T{i}" for i in range(1, 11)])), toyalm_bulk_size=2)

    def broken_writes(request: Request, call: Handler) -> Response:
        if request.method == "POST":
            return json_response({"message": "database is down"}, 500)
        return call(request)

    intercept(app, broken_writes)
    result = toy.sync(alias)
    assert result.state == "failed" and isinstance(result.error, RemoteError)
    assert "database is down" in result.outcome.message and "stopped" in result.outcome.message
    assert _posts(toy, "/bulk") == 3
    assert result.outcome.counts["failed"] == 6


def test_engine_closes_a_new_item_the_adapter_could_not_close(toy: SyncEnv) -> None:
    app = _app(toy)
    alias = toy.connection(toy.project([{"task_id": "T1", "status": "DONE"}]), sde_statuses_in_scope="TODO,DONE")
    failed_once = False

    def first_transition_fails(request: Request, call: Handler) -> Response:
        nonlocal failed_once
        if request.method == "POST" and request.path.endswith("/transitions") and not failed_once:
            failed_once = True
            return json_response({"message": "workflow busy"}, 500)
        return call(request)

    intercept(app, first_transition_fails)
    result = toy.sync(alias)
    assert result.state == "succeeded", result.outcome.message
    assert result.outcome.counts["created"] == 1 and result.outcome.counts["closed"] == 1
    assert toy.alm_items(alias)["T1"][0].done


def test_resume_finishes_the_close_of_an_interrupted_creation(toy: SyncEnv) -> None:
    """A DONE task's item was created but the sync died before closing it and before linking it."""
    project = toy.project([{"task_id": "T1", "status": "DONE"}])
    alias = toy.connection(project, sde_statuses_in_scope="TODO,DONE", conflict_policy="alm")
    _app(toy).add("[app-" + project + "] T1: Task T1")  # the item the dead sync made, still open
    cid = toy.config.connection(alias).id
    Journal(toy.store, cid).begin("create", [(toy.task(project, "T1").id, "")])
    result = toy.sync(alias)
    assert result.state == "succeeded", result.outcome.message
    assert result.outcome.counts["created"] == 0 and result.outcome.counts["closed"] == 1
    assert toy.task(project, "T1").status == "DONE"  # not reverted by the 'alm' policy
    assert toy.alm_items(alias)["T1"][0].done
    assert Journal(toy.store, cid).entries() == []


def test_stale_link_is_replaced(toy: SyncEnv) -> None:
    alias = toy.connection(toy.project(tasks("T1")))
    toy.sync(alias)
    app = _app(toy)
    with app.lock:
        app.items.clear()  # someone deleted the item
    result = toy.sync(alias)
    assert result.outcome.counts["created"] == 1
    event = next(e for e in toy.events(result) if e.action == "create")
    assert "no longer in the ALM target" in event.message
    items = toy.alm_items(alias)
    assert len(items["T1"]) == 1
    assert [link.alm_ref for link in toy.links(alias).values()] == [items["T1"][0].ref]


def test_second_sync_of_the_same_connection_is_refused(toy: SyncEnv) -> None:
    alias = toy.connection(toy.project(tasks("T1")))
    cid = toy.config.connection(alias).id
    with SyncLock(toy.store, cid, alias):
        result = toy.sync(alias)
    assert result.state == "failed" and isinstance(result.error, ConfigError)
    assert "already running" in result.outcome.message
    assert toy.sync(alias).state == "succeeded"


def test_connection_without_project_is_a_config_error(toy: SyncEnv) -> None:
    alias = toy.connection(toy.project(tasks("T1")))
    with toy.store.session() as s:
        row = s.scalar(select(Connection).where(Connection.alias == alias))
        assert row is not None
        row.project_id = None
    result = toy.sync(alias)
    assert result.state == "failed" and isinstance(result.error, ConfigError)
    assert "has no project" in result.outcome.message


def test_cancel_stops_between_chunks_and_next_sync_finishes(toy: SyncEnv) -> None:
    ids = [f"T{i}" for i in range(1, 41)]
    alias = toy.connection(toy.project(tasks(*ids)), toyalm_bulk_size=4)
    cancel = threading.Event()

    def on_event(ev: JobEvent) -> None:
        if ev.action == "create":
            cancel.set()

    ctx = JobContext(cancel_event=cancel, on_event=on_event)
    result = toy.sync(alias, ctx=ctx)
    assert result.state == "cancelled"
    assert result.outcome.counts["created"] == 4  # the chunk in flight finished, no other was sent
    assert _posts(toy, "/bulk") == 1
    again = toy.sync(alias)
    assert again.state == "succeeded", again.outcome.message
    assert again.outcome.counts["created"] == 36
    items = toy.alm_items(alias)
    assert sorted(items) == sorted(ids) and all(len(v) == 1 for v in items.values())


def _dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # nothing listens there once the socket is closed


def test_unreachable_server_stops_at_once(toy: SyncEnv) -> None:
    """After the first chunk the server becomes unreachable: the sync stops at the next request."""
    dead = _dead_url()

    class GoneAfterFirstChunk(ToyAlmAdapter):
        def create_items(self, drafts: Sequence[ItemDraft]) -> list[RemoteItem | Exception]:
            out = super().create_items(drafts)
            self.base = dead
            return out

    class System(ToyAlmSystem):
        def sync_adapter(self, connection: ConnectionSettings, http: HttpFactory, ctx: JobContext) -> ToyAlmAdapter:
            return GoneAfterFirstChunk(connection, http, ctx)

    toy.target.system = System()
    alias = toy.connection(toy.project(tasks(*[f"T{i}" for i in range(1, 11)])), toyalm_bulk_size=2)
    result = toy.sync(alias, http=HttpFactory(retries=0))
    assert result.state == "failed" and isinstance(result.error, RemoteError)
    assert "refused" in result.outcome.message and "stopped" in result.outcome.message
    assert result.outcome.counts["created"] == 2 and result.outcome.counts["failed"] == 2  # one chunk only
    assert unreachable(result.error)


def test_unreachable_tells_connect_failures_from_resets(toy: SyncEnv) -> None:
    session = HttpFactory(retries=0).session()
    with pytest.raises(RemoteError) as refused:
        send(session, "GET", _dead_url() + "/x")
    assert unreachable(refused.value)
    toy.target.app.faults = Faults.parse("reset:1")
    with pytest.raises(RemoteError) as reset:
        send(session, "POST", toy.target.server.url + "/api/items/bulk", json={})
    assert "reset" in reset.value.message and not unreachable(reset.value)


def test_nothing_in_scope_checks_settings_but_lists_nothing(toy: SyncEnv) -> None:
    alias = toy.connection(toy.project([{"task_id": "T1", "priority": 2}]), sde_min_priority=7)
    result = toy.sync(alias)
    assert result.state == "succeeded", result.outcome.message
    assert result.outcome.data["in_scope"] == 0 and result.outcome.data["out_of_scope"] == 1
    assert [path for _, path, _ in _app(toy).log] == ["/api/whoami?"]


def test_new_items_get_their_task_text(toy: SyncEnv) -> None:
    """Tasks are listed without their text; it is read for the tasks being created, chunk by chunk."""
    rows = [{"task_id": f"T{i}", "text": f"Text of T{i}\n\nsecond paragraph"} for i in range(1, 8)]
    alias = toy.connection(toy.project(rows), toyalm_bulk_size=3)
    assert toy.sync(alias).outcome.counts["created"] == 7
    descriptions = {item.title.split()[1]: item.description for item in _app(toy).items.values()}
    assert descriptions == {f"T{i}:": f"Text of T{i}\n\nsecond paragraph" for i in range(1, 8)}
