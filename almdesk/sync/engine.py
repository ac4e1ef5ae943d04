"""The sync engine: one connection's in-scope tasks pushed into its ALM target, safely and in bulk.

:func:`sync_job` returns a plain callable ``run(ctx) -> JobOutcome`` that the app runs through
``almdesk.jobs.record.run_recorded`` (GUI worker or CLI). The algorithm is sdetools' (research
``sdetools.md`` §1–§3) made robust (DESIGN §4 Sync):

1. resolve the connection's project, title format, scope and rules; ``adapter.prepare()``;
2. one ``adapter.iter_items()`` pass lists every candidate item (big pages), indexed by ref and
   by the task id its title was made for; linked items the listing did not show are asked for directly
   when the adapter offers ``find_items`` (a search that lags behind writes, as Jira Cloud's does);
3. :func:`almdesk.sync.plan.make_plan` decides per task (stored link first, then fixed title, keeping to
   this connection's context: :mod:`almdesk.sync.identity` refuses a shared target with the same context);
4. a dry run stops here and returns the plan; a sync stores the links it found, applies local
   status updates, creates missing items in chunks of ``adapter.bulk_size`` — up to
   ``adapter.concurrency`` chunks in flight (:mod:`almdesk.sync.overlap`, within the vendor's published
   limit; 1 when absent) — and changes ALM statuses, journaling before and after every server write
   (:mod:`almdesk.sync.journal`), in the order of the plan.

A create that fails with an unknown fate (read timeout, HTTP 504, a reset after sending:
:func:`almdesk.base.failures.fate_unknown`) is journaled as ``unknown`` with the connector's timeout;
for twice that timeout the following syncs do not create the task again and report it as waiting
("an earlier create may still land"), since the server may make the item after they have looked for it.

Per-item failures are reported and the sync goes on; an authentication failure, a server that cannot
be reached at all, or three server failures in a row stop it with the server's message (the job
fails, the next sync resumes).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from sqlalchemy import select

from almdesk.base.failures import FateUnknown, fate_unknown
from almdesk.base.records import ItemDraft, RemoteItem
from almdesk.base.settings import ConnectionSettings
from almdesk.errors import AuthError, CancelledError, ConfigError, RemoteError, UserFacingError
from almdesk.jobs.context import JobContext, JobOutcome
from almdesk.models import Connection, Job, Store, Task
from almdesk.net.session import HttpFactory
from almdesk.sync.failing import find_missing, like, unreachable
from almdesk.sync.identity import check_identity
from almdesk.sync.journal import UNKNOWN, WAIT_FACTOR, Journal, SyncLock
from almdesk.sync.links import Links
from almdesk.sync.overlap import Overlap, chunks
from almdesk.sync.plan import (
    ItemIndex,
    LinkSnapshot,
    PlanEntry,
    Rules,
    TaskSnapshot,
    make_plan,
)
from almdesk.sync.scope import Scope
from almdesk.sync.titles import TitleFormat
from almdesk.systems.base import SyncAdapter, System

MAX_SERVER_FAILURES = 3  # consecutive server errors before the sync stops
COUNT_KEYS = ("created", "updated", "closed", "reopened", "local_updated", "linked", "unchanged", "skipped",
              "waiting", "failed")
_Batch = tuple[list[PlanEntry], list[ItemDraft], list[int]]  # a chunk, its drafts, its journal entries


def utc_now() -> datetime:
    """The wall clock, timezone-aware UTC: the default ``now`` of :class:`SyncRun`."""
    return datetime.now(UTC)


def sync_job(store: Store, connection: ConnectionSettings, system: System, http: HttpFactory, *,
             dry_run: bool = False, now: Callable[[], datetime] = utc_now) -> Callable[[JobContext], JobOutcome]:
    """The sync (or dry run) of ``connection`` as a job callable; ``now`` as for :class:`SyncRun`."""

    def run(ctx: JobContext) -> JobOutcome:
        return SyncRun(store, connection, system, http, ctx, dry_run=dry_run, now=now).run()

    return run


class _Stop(Exception):
    """A global failure (auth, network): stop the sync, keep what was done."""

    def __init__(self, error: UserFacingError) -> None:
        super().__init__(error.message)
        self.error = error


class SyncRun:
    """One run of the engine for one connection. Not reusable.

    ``now`` is the clock (aware UTC) that decides whether an unknown-fate create's waiting window is
    over (:meth:`almdesk.sync.journal.Journal.waiting_creates`); the wall clock unless a test injects one.
    """

    def __init__(self, store: Store, connection: ConnectionSettings, system: System, http: HttpFactory,
                 ctx: JobContext, *, dry_run: bool = False, now: Callable[[], datetime] = utc_now) -> None:
        if connection.id is None:
            raise ConfigError(f"Connection {connection.alias!r} is not saved.", "Save the connection, then sync it.",
                              field="connection")
        self.store = store
        self.connection = connection
        self.connection_id: int = connection.id
        self.system = system
        self.http = http
        self.ctx = ctx
        self.dry_run = dry_run
        self.now = now
        self.params = connection.params
        self.noun = system.item_noun or "item"
        self._server_failures = 0
        self._writes_done = 0
        self._writes_total = 0
        self._unsettled: set[int] = set()  # tasks whose journal entries must survive this run
        self._resumed: set[int] = set()  # tasks created by almdesk whose item may still need closing
        self.links = Links(store, self.connection_id)
        self.timeout = float(connection.connector.network.timeout or 0.0)  # the connector's, seconds
        self._waiting_until: datetime | None = None  # the latest end of a waiting task's window

    # --- entry point --------------------------------------------------------------------------
    def run(self) -> JobOutcome:
        started = time.monotonic()
        for key in COUNT_KEYS:
            self.ctx.counts.setdefault(key, 0)
        fmt = TitleFormat.of(self.params, application=self.connection.application, project=self.connection.project)
        scope = Scope.from_params(self.params)
        rules = Rules.from_params(self.params)
        ident = check_identity(self.store, self.system, self.connection)  # a shared context: refuse, write nothing
        self.http.add_secrets(v for v in self.connection.connector.secrets.values() if v)
        self.http.cancel = self.ctx.cancel_event  # a Cancel also ends a retry's wait (a long Retry-After)
        lock = None if self.dry_run else SyncLock(self.store, self.connection_id, self.connection.alias)
        if lock:
            lock.acquire()
        try:
            project_id = self._project_id()
            journal = Journal(self.store, self.connection_id, self.ctx.job_id or self._job_id())
            tasks, out_of_scope = self._load_tasks(project_id, scope)
            links = self.links.load()
            leftover = journal.leftover_creates()
            self._resumed = set(leftover)
            waiting = journal.waiting_creates(self.now())
            interrupted = leftover - waiting.keys()  # a waiting task's create was not interrupted: it is reported
            if interrupted:
                self.ctx.log(f"Resuming: an earlier sync was interrupted around {len(interrupted)} creation(s); "
                             "items it made are found by title, not created again.")
            self.ctx.progress(0, 0, f"Connecting to {self.system.label}…")
            adapter = self.system.sync_adapter(self.connection, self.http, self.ctx)
            try:
                adapter.prepare()
                # nothing in scope: the settings were checked, listing the ALM would change nothing
                index = self._read_items(adapter, ItemIndex(fmt, ident.mark)) if tasks else ItemIndex(fmt, ident.mark)
                find_missing(adapter, index, tasks, links, self.ctx, self.noun)
                plan = make_plan(tasks, links, index, fmt, rules, scope.may_create, leftover, waiting=waiting,
                                 taken=ident.taken)
                # the tasks still waiting (not one whose late item was found, nor one out of scope) set the time
                self._waiting_until = max((waiting[e.task.pk] for e in plan if e.action == "wait"), default=None)
                if self.dry_run:
                    return self._dry_run_outcome(plan, len(tasks), out_of_scope, index, started)
                stopped = self._execute(adapter, plan, links, journal)
            finally:
                try:
                    adapter.close()
                except UserFacingError as exc:
                    self.ctx.log(f"Closing the {self.system.label} session failed: {exc}", "warning")
            if stopped is None:
                journal.settle(self._unsettled)
            return self._outcome(len(tasks), out_of_scope, stopped, started)
        finally:
            if lock:
                lock.release()

    # --- reading ------------------------------------------------------------------------------
    def _project_id(self) -> int:
        with self.store.session() as s:
            row = s.get(Connection, self.connection_id)
            if row is None:
                raise ConfigError(f"Connection {self.connection.alias!r} no longer exists.", "Reload the list.",
                                  field="connection")
            if row.project_id is None:
                raise ConfigError(f"Connection {self.connection.alias!r} has no project.",
                                  "Edit the connection and choose the project whose tasks to sync.",
                                  field="project")
            return row.project_id

    def _job_id(self) -> int | None:
        """The job row run_recorded made for this run (newest in-progress sync of this connection)."""
        kind = "dry-run" if self.dry_run else "sync"
        with self.store.session() as s:
            return s.scalar(select(Job.id).where(Job.connection_id == self.connection_id, Job.kind == kind,
                                                 Job.in_progress.is_(True)).order_by(Job.id.desc()).limit(1))

    def _load_tasks(self, project_id: int, scope: Scope) -> tuple[list[TaskSnapshot], int]:
        """The project's tasks as snapshots, without their text (read only for the tasks to create, see
        :meth:`_texts`: a task's text may be kilobytes, and a re-sync of 5,000 needs none of it)."""
        # plain column rows, not ORM objects: building 5,000 Task instances costs more than the query
        with self.store.session() as s:
            rows = s.execute(select(Task.id, Task.task_id, Task.title, Task.phase, Task.priority, Task.status,
                                    Task.verification, Task.tags, Task.updated)
                             .where(Task.project_id == project_id).order_by(Task.id)).all()
        snaps = [TaskSnapshot(pk, tid, title, "", phase, priority, status.upper(), verification,
                              tuple(map(str, tags)) if tags else (), updated)
                 for pk, tid, title, phase, priority, status, verification, tags, updated in rows]
        kept = [t for t in snaps if not scope.excluded_by(t.phase, t.priority, t.tags, t.verification)]
        return kept, len(snaps) - len(kept)

    def _texts(self, pks: list[int]) -> dict[int, str]:
        with self.store.session() as s:
            return {pk: text or "" for pk, text in s.execute(select(Task.id, Task.text).where(Task.id.in_(pks)))}

    def _read_items(self, adapter: SyncAdapter, index: ItemIndex) -> ItemIndex:
        page = max(1, int(getattr(adapter, "page_size", 100) or 100))
        text = f"Reading {self.noun}s from {self.system.label}"
        self.ctx.progress(0, 0, text + "…")
        try:
            for item in adapter.iter_items():
                index.add(item)
                if len(index) % page == 0:
                    self.ctx.check_cancelled()
                    self.ctx.progress(0, 0, f"{text}: {len(index)}")
        except UserFacingError as exc:
            raise like(exc, f"Listing the {self.noun}s failed: {exc.message}") from exc
        self.ctx.check_cancelled()
        for tid, items in index.duplicates().items():
            keys = ", ".join(i.key for i in items)
            self.ctx.log(f"{len(items)} {self.noun}s have the title of task {tid} ({keys}); using {items[0].key}.",
                         "warning")
        self.ctx.log(f"Read {len(index)} {self.noun}(s) from {self.system.label}"
                     + (f"; {index.foreign} marked for other contexts are left alone." if index.foreign else "."))
        return index

    # --- dry run ------------------------------------------------------------------------------
    def _dry_run_outcome(self, plan: list[PlanEntry], in_scope: int, out_of_scope: int, index: ItemIndex,
                         started: float) -> JobOutcome:
        counts = self.ctx.counts
        names = {"create": "created", "close": "closed", "reopen": "reopened", "update-local": "local_updated",
                 "link": "linked", "unchanged": "unchanged", "skip": "skipped", "wait": "waiting"}
        rows = []
        for entry in plan:
            counts[names[entry.action]] += 1
            if entry.action in ("close", "reopen"):
                counts["updated"] += 1
            if entry.action == "unchanged":
                continue
            rows.append(entry.as_dict())
            self.ctx.event(self._label(entry), entry.action, "planned", entry.reason, entry.item.url if entry.item
                           else "")
        changes = sum(1 for e in plan if e.action not in ("unchanged", "skip", "link", "wait"))
        self.ctx.progress(1, 1, "Dry run finished")
        message = (f"Dry run of {self.connection.alias}: {changes} change(s) planned for {in_scope} task(s) in scope "
                   f"({self._summary(counts)}); nothing was written.")
        data = {"plan": rows, "in_scope": in_scope, "out_of_scope": out_of_scope, "alm_items": len(index),
                "requests": self.http.requests, "seconds": round(time.monotonic() - started, 3)}
        return JobOutcome(True, message, self._counts(), data)

    # --- executing ----------------------------------------------------------------------------
    def _execute(self, adapter: SyncAdapter, plan: list[PlanEntry], links: dict[int, LinkSnapshot],
                 journal: Journal) -> _Stop | None:
        counts = self.ctx.counts
        creates = [e for e in plan if e.action == "create"]
        changes = [e for e in plan if e.action in ("close", "reopen")]
        locals_ = [e for e in plan if e.action == "update-local"]
        self._writes_total = len(creates) + len(changes) + (1 if locals_ else 0)
        self.links.refresh(plan, links)
        for entry in plan:
            if entry.action == "unchanged":
                counts["unchanged"] += 1
            elif entry.action == "link":
                counts["linked"] += 1
                self._event(entry, "link", "ok", f"linked to {entry.item.key if entry.item else ''}")
            elif entry.action == "skip":
                counts["skipped"] += 1
                self._event(entry, "skip", "skipped", entry.reason)
            elif entry.action == "wait":
                counts["waiting"] += 1
                self._event(entry, "wait", "waiting", entry.reason)
        self._apply_local(locals_)
        try:
            after_create = self._create_all(adapter, creates, journal)
            self._set_statuses(adapter, [*changes, *after_create], journal)
        except _Stop as stop:
            return stop
        return None

    def _tick(self, text: str) -> None:
        self._writes_done += 1
        self.ctx.progress(self._writes_done, max(self._writes_total, self._writes_done), text)

    def _apply_local(self, entries: list[PlanEntry]) -> None:
        """The ALM's status wins: update the tasks (one transaction; no server write)."""
        if not entries:
            return
        self.ctx.check_cancelled()
        now = datetime.now(UTC)
        with self.store.session() as s:
            for entry in entries:
                task = s.get(Task, entry.task.pk)
                if task is None or entry.item is None:
                    continue
                task.status = "DONE" if entry.item.done else "TODO"
                task.updated = now
        for entry in entries:
            self.ctx.counts["local_updated"] += 1
            new = "DONE" if entry.item and entry.item.done else "TODO"
            self._event(entry, "update-local", "ok", f"task {entry.task.status} → {new}: {entry.reason}")
        self._tick("Updated local task statuses")

    def _create_all(self, adapter: SyncAdapter, creates: list[PlanEntry], journal: Journal) -> list[PlanEntry]:
        """Create in chunks, up to ``adapter.concurrency`` chunks in flight (:mod:`almdesk.sync.overlap`; the
        first alone): each is journaled pending just before it is sent and settled after, in order.
        Return entries whose new item still needs closing."""
        size = max(1, int(getattr(adapter, "bulk_size", 1) or 1))
        follow_up: list[PlanEntry] = []

        def begin(chunk: list[PlanEntry]) -> _Batch:  # the pool takes a chunk just before sending it
            texts = self._texts([e.task.pk for e in chunk])
            drafts = [ItemDraft(e.task.task_id, e.title, texts.get(e.task.pk, ""), e.task.priority, list(e.task.tags),
                                e.task.done) for e in chunk]
            return chunk, drafts, journal.begin("create", [(e.task.pk, "") for e in chunk])

        def send(batch: _Batch) -> Sequence[RemoteItem | Exception]:
            try:
                return adapter.create_items(batch[1])
            except UserFacingError as exc:
                return [exc] * len(batch[1])

        # after a stop, what was in flight is still recorded (links, journal, events), without judging
        Overlap(send, _width(adapter), check=self.ctx.check_cancelled).each(
            (begin(c) for c in chunks(creates, size)), lambda b, r, judge: self._settle(b, r, follow_up, judge=judge))
        return follow_up

    def _settle(self, batch: _Batch, results: Sequence[RemoteItem | Exception] | Exception,
                follow_up: list[PlanEntry], *, judge: bool) -> None:
        chunk, _, ids = batch
        if isinstance(results, Exception):  # the adapter raised (cancelled mid-chunk): the entries stay pending
            if judge:
                raise results
            return
        if len(results) != len(chunk):
            raise RuntimeError(f"{self.system.name} adapter returned {len(results)} results for {len(chunk)} drafts")
        # the links and the journal's "done" in one transaction (bulk statements)
        with self.store.session() as s:
            self.links.put(s, [(e.task.pk, r) for e, r in zip(chunk, results, strict=True)
                               if isinstance(r, RemoteItem)])
            Journal.finish_many(s, [(jid, "done", r.ref) if isinstance(r, RemoteItem) else
                                    (jid, UNKNOWN if fate_unknown(r) else "failed", "")
                                    for r, jid in zip(results, ids, strict=True)], timeout=self.timeout)
        failures: list[Exception] = []
        cancelled: CancelledError | None = None
        for entry, result in zip(chunk, results, strict=True):
            if isinstance(result, CancelledError):  # the adapter stopped before this draft
                cancelled = result
            elif isinstance(result, RemoteItem):
                entry.item = result
                self.ctx.counts["created"] += 1
                closed = entry.task.done and result.done
                if closed:
                    self.ctx.counts["closed"] += 1
                self._event(entry, "create", "ok",
                            f"created {result.key}" + (" (closed)" if closed else "") + f": {entry.reason}")
                if entry.task.done and not result.done:
                    entry.action, entry.reason = "close", "closing the new item of a done task"
                    self._resumed.add(entry.task.pk)
                    follow_up.append(entry)
            else:
                self._fail(entry, "create", result, unknown=fate_unknown(result))
                failures.append(result)
        for _ in chunk:
            self._tick(f"Creating {self.noun}s")
        if judge and cancelled is not None:
            raise cancelled
        if judge:
            self._judge(failures, all_failed=len(failures) == len(chunk))

    def _set_statuses(self, adapter: SyncAdapter, entries: list[PlanEntry], journal: Journal) -> None:
        """Close/reopen, up to ``adapter.concurrency`` in flight like the creates: each journaled pending just
        before it is sent, settled after, in order."""
        def begin(entry: PlanEntry) -> tuple[PlanEntry, int]:
            assert entry.item is not None
            return entry, journal.begin(entry.action, [(entry.task.pk, entry.item.ref)])[0]

        def send(job: tuple[PlanEntry, int]) -> RemoteItem:
            assert job[0].item is not None
            return adapter.set_done(job[0].item, job[0].action == "close")

        Overlap(send, _width(adapter), check=self.ctx.check_cancelled).each(
            (begin(e) for e in entries), lambda job, new, judge: self._status_set(*job, new, judge=judge))

    def _status_set(self, entry: PlanEntry, jid: int, new: RemoteItem | Exception, *, judge: bool) -> None:
        done = entry.action == "close"
        if isinstance(new, Exception) and not isinstance(new, UserFacingError):  # e.g. cancelled: stays pending
            if judge:
                raise new
            return
        if isinstance(new, UserFacingError):
            with self.store.session() as s:
                Journal.finish(s, jid, "failed")
            self._fail(entry, entry.action, new)
            if done and entry.task.pk in self._resumed:
                self._unsettled.add(entry.task.pk)
            self._tick(f"Updating {self.noun}s")
            if judge:
                self._judge([new], all_failed=True)
            return
        with self.store.session() as s:
            self.links.put(s, [(entry.task.pk, new)])
            Journal.finish(s, jid, "done", new.ref)
        entry.item = new
        self.ctx.counts["closed" if done else "reopened"] += 1
        self.ctx.counts["updated"] += 1
        self._event(entry, entry.action, "ok", f"{'closed' if done else 'reopened'} {new.key}: {entry.reason}")
        self._tick(f"Updating {self.noun}s")
        if judge:
            self._judge([], all_failed=False)

    # --- failures -----------------------------------------------------------------------------
    def _fail(self, entry: PlanEntry, action: str, error: Exception, *, unknown: bool = False) -> None:
        self.ctx.counts["failed"] += 1
        text = str(error) if isinstance(error, UserFacingError) else f"{type(error).__name__}: {error}"
        if isinstance(error, FateUnknown):
            text = error.message  # its hint says what the sentence below says, with the actual wait
        if unknown:
            text += (f" The {self.noun} may still be made: the next syncs do not create it again for "
                     f"{WAIT_FACTOR * self.timeout:g} s, then look for it by title.")
        self._event(entry, action, "failed", text)

    def _judge(self, failures: list[Exception], *, all_failed: bool) -> None:
        """Stop on auth failures and an unreachable server, and on server failures that keep coming."""
        for exc in failures:
            if isinstance(exc, AuthError) or (isinstance(exc, RemoteError) and unreachable(exc)):
                raise _Stop(exc)
        server = [e for e in failures if isinstance(e, RemoteError)]
        if server and all_failed:
            self._server_failures += 1
            if self._server_failures >= MAX_SERVER_FAILURES:
                raise _Stop(server[-1])
        elif not all_failed:
            self._server_failures = 0

    # --- results ------------------------------------------------------------------------------
    def _event(self, entry: PlanEntry, action: str, status: str, message: str) -> None:
        item = entry.item
        self.ctx.event(self._label(entry), action, status, message, item.url if item else "",
                       key=item.key if item else "")

    @staticmethod
    def _label(entry: PlanEntry) -> str:
        return f"{entry.task.task_id} {entry.task.title}"[:300]

    def _counts(self) -> dict[str, int]:
        return {k: int(v) for k, v in self.ctx.counts.items()}

    @staticmethod
    def _summary(counts: dict[str, int] | object) -> str:
        assert isinstance(counts, dict)
        parts = [f"{counts.get(k, 0)} {k.replace('_', ' ')}" for k in COUNT_KEYS if counts.get(k, 0)]
        return ", ".join(parts) or "nothing to do"

    def _outcome(self, in_scope: int, out_of_scope: int, stopped: _Stop | None, started: float) -> JobOutcome:
        counts = self._counts()
        self.ctx.progress(self._writes_total, max(self._writes_total, 1), "Sync finished")
        summary = self._summary(counts)
        if stopped is not None:
            err = stopped.error
            left = self._writes_total - self._writes_done
            raise like(err, f"The sync of {self.connection.alias} stopped: {err.message} ({summary}; "
                             f"{left} change(s) not attempted)",
                        err.hint or "Run the sync again when the server is reachable; it resumes where it stopped."
                        ) from err
        failed = counts.get("failed", 0)
        waiting = counts.get("waiting", 0)
        until = f" (sync again after {self._waiting_until.astimezone().strftime('%H:%M:%S %Z')})" if (
            self._waiting_until) else ""
        message = (f"Synced {self.connection.alias}: {in_scope} task(s) in scope; {summary}."
                   + (f" {failed} failed; see the job's events." if failed else "")
                   + (f" {waiting} waiting: an earlier create may still land{until}." if waiting else ""))
        data = {"in_scope": in_scope, "out_of_scope": out_of_scope, "requests": self.http.requests,
                "seconds": round(time.monotonic() - started, 3)}
        return JobOutcome(failed == 0, message, counts, data)


def _width(adapter: SyncAdapter) -> int:
    """How many of the adapter's writes may be in flight at once (its ``concurrency``; 1 when absent)."""
    return max(1, int(getattr(adapter, "concurrency", 1) or 1))
