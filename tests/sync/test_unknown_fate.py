"""A create whose fate is unknown (answered after the client's timeout) is not made twice by the next syncs.

The sandbox holds one create request past the connector's 1 s timeout and makes the items only when
the test lets it, after an immediate re-sync has looked for them: that re-sync must not create them
again but report them as waiting ("an earlier create may still land"); once twice the timeout has
passed, the lookup by title decides — the late items are found and linked, or (when the slow create
never landed) the tasks are created. Also: which transport failures leave a create's fate unknown, a
504 bulk create on Octane, Jira and Rally (the event says the wait once), and the summary's "sync again
after" time with two journaled unknown-fate creates.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.wrappers import Request, Response

from almdesk.base.failures import FateUnknown, fate_unknown, with_fate
from almdesk.base.settings import NetworkSettings
from almdesk.errors import RemoteError
from almdesk.jobs.context import JobContext
from almdesk.models import JournalEntry
from almdesk.net.session import HttpFactory, send
from almdesk.sandbox.base import json_response
from almdesk.sync.journal import UNKNOWN, WAIT_FACTOR, Journal
from almdesk.systems.registry import Registry
from tests.sync.harness import Handler, SyncEnv, Target, intercept, real_systems, tasks

TIMEOUT = 1.0
TITLE = "Fate unknown"


class SlowCreate:
    """Holds the first create request (its body names a task titled TITLE) until released, past the
    client's timeout; then makes the items (``lands``) or answers 504 without making them."""

    def __init__(self, lands: bool) -> None:
        self.lands = lands
        self.release = threading.Event()
        self.finished = threading.Event()
        self.held = 0

    def __call__(self, request: Request, call: Handler) -> Response:
        if self.held and not self.finished.is_set() and "sign_out" in request.path:
            # a real server checked the held request's session when it arrived: keep it valid
            return json_response({})
        if request.method == "POST" and TITLE.encode() in request.get_data() and not self.held:
            self.held += 1
            self.release.wait(30)
            try:
                return call(request) if self.lands else json_response({"message": "gateway timeout"}, 504)
            finally:
                self.finished.set()
        return call(request)


def _run(env: SyncEnv, lands: bool) -> tuple[str, int]:
    """Up to the held create's end; returns the alias and how many tasks wait for it."""
    env.set_timeout(TIMEOUT)
    alias = env.connection(env.project(tasks("T1", "T2", title=TITLE)))
    slow = SlowCreate(lands)
    intercept(env.target.app, slow)

    first = env.sync(alias)
    assert first.state == "failed" and first.outcome.counts["failed"] >= 1, first.outcome.message
    failed = [e for e in env.events(first) if e.status == "failed"]
    assert failed and all("may still be made" in e.message for e in failed), [e.message for e in failed]
    cid = env.config.connection(alias).id
    with env.store.session() as s:
        unknown = s.scalars(select(JournalEntry).where(JournalEntry.connection_id == cid,
                                                       JournalEntry.state == UNKNOWN)).all()
        assert unknown and all(e.timeout == TIMEOUT and e.finished is not None for e in unknown)
    waiting_pks = set(Journal(env.store, cid).waiting_creates())
    assert len(waiting_pks) == len(failed)

    # back to back: the server has not finished the first create yet
    second = env.sync(alias)
    counts = second.outcome.counts
    assert second.state == "succeeded", second.outcome.message
    assert counts["waiting"] == len(failed) and counts["created"] == 0 and counts["failed"] == 0, counts
    waits = [e for e in env.events(second) if e.status == "waiting"]
    assert len(waits) == len(failed)
    assert all(e.action == "wait" and "an earlier create may still land" in e.message for e in waits)
    assert "waiting: an earlier create may still land" in second.outcome.message
    dry = env.sync(alias, dry_run=True)
    assert dry.outcome.counts["waiting"] == len(failed) and dry.outcome.counts["created"] == 0

    slow.release.set()
    assert slow.finished.wait(10)
    items = env.alm_items(alias)
    assert all(len(v) == 1 for v in items.values()), items
    assert len(items) == (2 if lands else 2 - len(failed)), items  # the held create made its items, or none
    return alias, len(failed)


@pytest.mark.parametrize("lands", [True, False], ids=["lands-late", "never-lands"])
def test_unknown_fate_create_is_not_made_twice(env: SyncEnv, lands: bool) -> None:
    alias, waiting = _run(env, lands)
    # still inside the window (the syncs' clock has not moved): a landed item is linked, a missing one waited for
    early = env.sync(alias).outcome.counts
    assert (early["waiting"], early["linked"], early["created"]) == ((0, waiting, 0) if lands else (waiting, 0, 0)), early
    env.clock.advance(WAIT_FACTOR * TIMEOUT)  # the window runs from the failure, which is a while ago
    third = env.sync(alias)
    counts = third.outcome.counts
    assert third.state == "succeeded", third.outcome.message
    assert counts["waiting"] == 0 and counts["failed"] == 0, counts
    if lands:
        assert counts["created"] == 0, counts  # the late items were found by title and linked
    else:
        assert counts["created"] >= 1, counts
    items = env.alm_items(alias)
    assert sorted(items) == ["T1", "T2"] and all(len(v) == 1 for v in items.values()), items
    assert len(env.links(alias)) == 2
    with env.store.session() as s:
        assert s.scalars(select(JournalEntry)).all() == []  # settled: every task is linked


def _failure(answer: Callable[[socket.socket], None] | None) -> RemoteError:
    """The RemoteError ``send`` raises for a POST to a loopback server that reads the request and then
    does ``answer(connection)`` (None: nothing listens on the port)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    port = server.getsockname()[1]
    if answer is None:
        server.close()
    else:
        server.listen(1)

        def serve() -> None:
            conn, _ = server.accept()
            conn.recv(65536)
            answer(conn)
            server.close()

        threading.Thread(target=serve, daemon=True).start()
    session = HttpFactory(NetworkSettings(timeout=0.5)).session(retries=0)
    try:
        send(session, "POST", f"http://127.0.0.1:{port}/items", what="the test server", json={"a": 1})
    except RemoteError as exc:
        return exc
    finally:
        session.close()
    raise AssertionError("the POST did not fail")


def _reset(conn: socket.socket) -> None:
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def test_which_failures_leave_a_create_s_fate_unknown() -> None:
    held: list[socket.socket] = []
    timed_out = _failure(held.append)  # read, never answered: a read timeout
    assert fate_unknown(timed_out) and isinstance(with_fate(timed_out), FateUnknown)
    reset = _failure(_reset)  # read, then reset
    assert fate_unknown(reset)
    refused = _failure(None)  # nothing sent
    assert not fate_unknown(refused) and with_fate(refused) is refused
    assert fate_unknown(RemoteError("HTTP 504"), 504) and not fate_unknown(RemoteError("HTTP 500"), 500)
    wrapped = with_fate(timed_out)
    assert isinstance(wrapped, FateUnknown) and wrapped.message == timed_out.message
    for conn in held:
        conn.close()


@pytest.mark.parametrize("system", ["octane", "jira", "rally"])
def test_a_504_create_says_once_how_long_the_next_syncs_wait(system: str, sync_registry: Registry,
                                                             tmp_path: Path) -> None:
    """A bulk create answered 504 (a gateway gave up; the server may finish) is an unknown-fate create:
    its event names the server's answer and the wait once (the FateUnknown's own hint would say it a
    second time, vaguer), and the journal keeps the connector's timeout for the window."""
    if system not in real_systems():
        pytest.skip(f"the {system} sandbox is not available")
    target = Target.start(system, sync_registry)
    try:
        env = SyncEnv(tmp_path, target, sync_registry)
        env.set_timeout(7.0)
        alias = env.connection(env.project(tasks("T1", "T2", title=TITLE)))

        def gateway(request: Request, call: Handler) -> Response:
            if request.method == "POST" and TITLE.encode() in request.get_data():
                return json_response({"message": "gateway timeout"}, 504)
            return call(request)

        intercept(env.target.app, gateway)
        result = env.sync(alias)
        failed = [e for e in env.events(result) if e.status == "failed"]
        assert len(failed) == 2, [e.message for e in env.events(result)]
        for event in failed:
            assert "504" in event.message, event.message
            assert event.message.count("may still") == 1, event.message
            assert "do not create it again for 14 s, then look for it by title" in event.message, event.message
        with env.store.session() as s:
            entries = s.scalars(select(JournalEntry)).all()
        assert [(e.state, e.timeout) for e in entries] == [(UNKNOWN, 7.0), (UNKNOWN, 7.0)]
    finally:
        target.stop()


def test_the_summary_names_the_end_of_the_still_waiting_tasks_window(toy: SyncEnv) -> None:
    """Of two journaled unknown-fate creates, the one whose item has landed is linked, not waited for: the
    summary's 'sync again after' is the other's window end, and no interrupted sync is reported."""
    project = toy.project(tasks("T1", "T2"))
    alias = toy.connection(project)
    cid = toy.config.connection(alias).id
    assert cid is not None
    pks = {t: toy.task(project, t).id for t in ("T1", "T2")}
    journal = Journal(toy.store, cid)
    ids = journal.begin("create", [(pks["T1"], ""), (pks["T2"], "")])
    with toy.store.session() as s:  # T1's create was sent with a long timeout, T2's with a short one
        Journal.finish_many(s, [(ids[0], UNKNOWN, "")], timeout=600.0)
        Journal.finish_many(s, [(ids[1], UNKNOWN, "")], timeout=60.0)
    toy.pre_create(alias, [("T1", "Task T1")])  # T1's item has landed since
    until = journal.waiting_creates()
    assert set(until) == set(pks.values()) and until[pks["T1"]] > until[pks["T2"]]

    ctx = JobContext()
    result = toy.sync(alias, ctx=ctx)
    counts = result.outcome.counts
    assert (counts["linked"], counts["waiting"], counts["created"]) == (1, 1, 0), counts
    expected = until[pks["T2"]].astimezone().strftime("%H:%M:%S %Z")  # local time, named: the events say UTC
    assert f"1 waiting: an earlier create may still land (sync again after {expected})." in result.outcome.message, \
        result.outcome.message
    assert not any("interrupted" in line for _, line in ctx.lines), ctx.lines
