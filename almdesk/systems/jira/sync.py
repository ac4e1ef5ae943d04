"""The sync adapter for Jira (the contract is :class:`almdesk.systems.base.SyncAdapter`).

``iter_items`` lists the project's issues carrying the connection's label (and under its parent, for
sub-tasks) in the biggest pages Jira serves: 100 on Cloud's ``/search/jql`` once fields are asked for,
1000 on Data Center (whose ``startAt`` pages after the first go up to ``concurrency`` at once; Cloud's token
pages cannot). The engine sends up to ``concurrency`` (4) bulk creates at once: Jira publishes no
concurrency limit, and a 429 is retried after its ``Retry-After`` by the shared session. ``create_items`` posts up to 50 issues in one bulk request and closes the ones
whose task is done by the close transition. ``set_done`` runs the close or reopen transition by name,
listing the available names when it is missing.

New issues are not read back: the bulk answer gives their id and key and the title is the draft's.
Their status is the one the first new issue of the sync starts in, read once (``GET issue`` with its
transitions, which also gives the close transition): new issues of one project and type share a
workflow, so the links store the right status at once and the first re-sync has no link to rewrite
(50,000 link updates were the peak of that re-sync's memory). Cloud's search would not even show new
issues at once (it is eventually consistent); reading one issue is not. A closed one takes the status
its close transition leads to. ``prepare`` checks the settings in three requests (four with ``deployment: auto``).

Context mark: every new issue carries the label :func:`~almdesk.systems.marks.context_mark` of the
connection's ``alm_context`` beside ``alm_issue_label`` (when the create screen has labels). A label, not a
field, because every Jira project has labels without admin work, they need no custom field or screen
change, they do not change the summary people read, and the listing reads them at no extra request
(``labels`` is one more field of the same search pages). ``get_item`` reads one issue named by key,
number or browse URL for ``almdesk link``, checking it is in the connection's project.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from almdesk.base.failures import with_fate
from almdesk.base.records import ItemDraft, RemoteItem
from almdesk.base.settings import ConnectionSettings
from almdesk.base.shapes import text
from almdesk.errors import ConfigError, UserFacingError
from almdesk.jobs.context import JobContext
from almdesk.net.session import HttpFactory
from almdesk.sync.overlap import paged
from almdesk.systems.answers import answers
from almdesk.systems.jira import jql
from almdesk.systems.jira.client import BULK_LIMIT, CLOUD_PAGE, DC_PAGE, JiraClient
from almdesk.systems.jira.errors import JiraApiError
from almdesk.systems.jira.fields import CLOUD, DC, JiraTarget, deployment_of
from almdesk.systems.jira.payload import PriorityMapper, issue_fields
from almdesk.systems.jira.resolve import Resolved, Resolver
from almdesk.systems.marks import context_mark, marks_in

FIELDS = ("summary", "status", "updated", "labels")
_KEY = re.compile(r"(?:^|/browse/|[?&]selectedIssue=|/issue/)([A-Za-z][A-Za-z0-9_]*-\d+)(?:$|[/?#&])")
FIND_LIMIT = 100  # linked issues missing from a listing that are read one by one, newest first


def parse_time(value: Any) -> datetime | None:
    """Jira's ``2025-01-07T10:11:12.345+0000`` as an aware datetime (None when absent or odd)."""
    if not value:
        return None
    text = str(value)
    try:  # Python 3.11 reads Jira's form, +0000 included, ten times faster than strptime
        moment = datetime.fromisoformat(text)
        if moment.tzinfo:
            return moment
    except ValueError:
        pass
    for fmt in ("%Y-%m-%dT%H:%M:%S.%f%z", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def _key_number(key: str) -> int:
    """The number of an issue key (``DEMO-12`` -> 12; -1 when there is none)."""
    tail = key.rpartition("-")[2]
    return int(tail) if tail.isdigit() else -1


class JiraSyncAdapter:
    """One connection's view of Jira for the sync engine."""

    bulk_size = BULK_LIMIT
    # bulk creates in flight at once: Jira publishes no concurrency limit, only 429s with Retry-After
    # (which the session honours, writes included), so a small pool
    concurrency = 4

    def __init__(self, connection: ConnectionSettings, http: HttpFactory, ctx: JobContext) -> None:
        self.connection = connection
        self.ctx = ctx
        self.target = JiraTarget.from_connection(connection)
        self.client = JiraClient(connection.connector, http, ctx)
        configured = deployment_of(connection.connector)
        self.page_size = CLOUD_PAGE if configured == CLOUD else DC_PAGE if configured == DC else CLOUD_PAGE
        self._priority_map = str(connection.params.get("alm_priority_map") or "")
        self._found: Resolved | None = None
        self._mapper: PriorityMapper | None = None
        # the close transition from each starting status of a new issue (new issues of one type and project
        # share a workflow, so one look-up serves every chunk)
        self._close_from: dict[str, dict[str, Any] | None] = {}
        self._new_status: str | None = None  # the status new issues start in, read once per sync
        self._new_status_lock = threading.Lock()  # bulk creates in flight at once read it once
        self.mark = context_mark(connection.params.get("alm_context"))

    # --- contract -------------------------------------------------------------------------
    def prepare(self) -> None:
        self.client.ensure_deployment()  # serverInfo only when the connector says "auto"
        self.page_size = self.client.page_size
        found = Resolver(self.client, self.target).for_sync()
        self._mapper = PriorityMapper(self._priority_map, found.priorities)
        self._found = found

    @property
    def found(self) -> Resolved:
        if self._found is None:
            self.prepare()
        assert self._found is not None
        return self._found

    def query(self) -> str:
        found = self.found
        clauses = [jql.equals("project", str(found.project["key"]))]
        if self.target.label:
            clauses.append(jql.equals("labels", self.target.label))
        if found.parent_key:
            clauses.append(jql.equals("parent", found.parent_key))
        return jql.conjunction(clauses, "key ASC")

    def iter_items(self) -> Iterator[RemoteItem]:
        """Cloud's pages come one after another (each names the next by its token); Data Center's
        ``startAt`` pages after the first (which tells the total) go up to ``concurrency`` at once, in order."""
        if self.client.cloud:
            issues: Iterator[dict[str, Any]] = self.client.search(self.query(), FIELDS, page_size=self.page_size)
        else:
            query = self.query()

            def page(start: int, size: int) -> tuple[list[dict[str, Any]], int]:
                body = self.client.request("GET", "search", what="the issue search", params={
                    "jql": query, "fields": ",".join(FIELDS), "maxResults": size, "startAt": start})
                return list(body.get("issues") or []), int(body.get("total") or 0)

            issues = paged(page, self.page_size, self.concurrency, check=self.ctx.check_cancelled)
        for issue in issues:
            yield self._item(issue)

    def create_items(self, drafts: Sequence[ItemDraft]) -> list[RemoteItem | Exception]:
        found = self.found
        assert self._mapper is not None
        payloads = [issue_fields(found, cloud=self.client.cloud, summary=d.title, text=d.text,
                                 labels=[self.target.label, self.mark, *d.tags] if self.target.label
                                 else [self.mark, *d.tags],
                                 priority=self._mapper.name_for(d.priority)) for d in drafts]
        try:
            results = self.client.create_issues(payloads)
        except UserFacingError as exc:  # a timeout, a reset after sending or a 504: Jira may still make them
            fate = with_fate(exc)
            return [fate for _ in drafts]
        created = {str(r["key"]): r for r in results if isinstance(r, dict)}
        out: list[RemoteItem | Exception] = []
        for draft, result in zip(drafts, results, strict=True):
            if isinstance(result, JiraApiError):
                out.append(ConfigError(result.message, result.hint, field=result.field)
                           if result.status == 400 else result)
                continue
            key = str(result["key"])
            out.append(RemoteItem(ref=key, key=key, title=draft.title, url=self.client.browse_url(key), done=False,
                                  marks=(self.mark,) if "labels" in found.screen else ()))
        first = next((r for r in out if isinstance(r, RemoteItem)), None)
        status = self._status_of_new(first.key) if first is not None else ""
        if status:
            done = self.target.is_done(status)
            out = [replace(r, status=status, done=done) if isinstance(r, RemoteItem) else r for r in out]
        closing = [n for n, (d, r) in enumerate(zip(drafts, out, strict=True))
                   if d.done and isinstance(r, RemoteItem) and not r.done]
        if closing:
            closed = self._close_new([item for n in closing if isinstance(item := out[n], RemoteItem)], created)
            for n in closing:
                item = out[n]
                if isinstance(item, RemoteItem):
                    out[n] = closed.get(item.key, item)
        return out

    def _status_of_new(self, key: str) -> str:
        """The status new issues start in: read from the just-created ``key`` once per sync ("" when unknown).

        The issue comes with its transitions (``expand=transitions.fields``); when they carry their fields,
        the close transition from that status is kept for :meth:`_close_new`, which then needs no look-up.
        A failure is logged and leaves the status to the next listing: the issues exist already.
        """
        with self._new_status_lock:
            return self._read_status_of_new(key)

    def _read_status_of_new(self, key: str) -> str:
        if self._new_status is not None:
            return self._new_status
        self._new_status = ""
        try:
            issue = self.client.issue(key, ("status",), expand="transitions.fields")
        except UserFacingError as exc:
            self.ctx.log(f"Created {key} but could not read its status: {exc}", "warning")
            return ""
        fields = issue.get("fields") if isinstance(issue, dict) else None
        status = fields.get("status") if isinstance(fields, dict) else None
        name = status.get("name") if isinstance(status, dict) else None
        if not isinstance(name, str) or not name:
            return ""
        self._new_status = name
        listed = issue.get("transitions") if isinstance(issue, dict) else None
        if (isinstance(listed, list) and all(isinstance(t, dict) and isinstance(t.get("fields"), dict) for t in listed)
                and name not in self._close_from):
            wanted = self.target.close_transition.lower()
            self._close_from[name] = next((t for t in listed if str(t.get("name", "")).lower() == wanted), None)
        return name

    def _close_new(self, items: list[RemoteItem], created: dict[str, dict[str, Any]]) -> dict[str, RemoteItem]:
        """Close just-created issues: at most one transition lookup per starting status (per sync; none for the
        status read by :meth:`_status_of_new`, whose transitions came with it), one POST each.

        The new status is the one the transition leads to (``to`` in Jira's transition list); only when
        Jira does not say are the moved issues read back. Items that cannot be closed stay open (the
        engine then closes them through :meth:`set_done`, which reports why); the problem is logged.
        """
        name = self.target.close_transition
        by_status = self._close_from
        moved: list[str] = []
        closed: dict[str, RemoteItem] = {}
        for item in items:
            if item.status not in by_status:
                try:  # the issues exist now: a failure from here on must not make them look uncreated
                    available = self.client.transitions(item.ref)
                except UserFacingError as exc:
                    self.ctx.log(f"Created {item.key} but could not look up its transitions: {exc}", "warning")
                    continue
                by_status[item.status] = next(
                    (t for t in available if str(t.get("name", "")).lower() == name.lower()), None)
            transition = by_status[item.status]
            if transition is None:
                self.ctx.log(f"Created {item.key} but cannot close it: no transition {name!r} from "
                             f"{item.status or 'its first status'}.", "warning")
                continue
            try:
                self.client.transition(item.ref, transition)
            except UserFacingError as exc:
                self.ctx.log(f"Created {item.key} but could not close it: {exc}", "warning")
                continue
            to = transition.get("to")
            status = str(to.get("name") or "") if isinstance(to, dict) else ""
            if status:
                closed[item.key] = replace(item, status=status, done=self.target.is_done(status))
            else:
                moved.append(item.key)
        if moved:
            closed.update(self._read_back({key: created.get(key, {"key": key}) for key in moved}))
        return closed

    def find_items(self, refs: Sequence[str]) -> dict[str, RemoteItem]:
        """Linked issues the listing did not show, read one by one: those still in the target, by key.

        Cloud's search is eventually consistent, so issues created moments ago may be missing from it;
        reading an issue is not. The newest keys go first (those are the ones a lagging index misses) and
        at most :data:`FIND_LIMIT` are read; a deleted issue, or one moved out of the project, label or
        parent, is left out (the engine then creates it again, as for any item gone from the target).
        """
        found = self.found
        newest = sorted(dict.fromkeys(refs), key=_key_number, reverse=True)
        if len(newest) > FIND_LIMIT:
            self.ctx.log(f"{len(newest)} linked issues are missing from the search; reading the newest "
                         f"{FIND_LIMIT} of them one by one.", "warning")
        out: dict[str, RemoteItem] = {}
        with answers("Jira"):
            for key in newest[:FIND_LIMIT]:
                issue = self.client.issue(key, (*FIELDS, "project", "labels", "parent"))
                if issue is None:
                    continue
                fields = issue.get("fields") or {}
                in_target = ((fields.get("project") or {}).get("key") == found.project.get("key")
                             and (not self.target.label or self.target.label in (fields.get("labels") or []))
                             and (not found.parent_key
                                  or (fields.get("parent") or {}).get("key") == found.parent_key))
                if in_target:
                    out[key] = self._item(issue)
        return out

    def set_done(self, item: RemoteItem, done: bool) -> RemoteItem:
        name = self.target.close_transition if done else self.target.reopen_transition
        field = "jira_close_transition" if done else "jira_reopen_transition"
        available = self.client.transitions(item.ref)
        transition = next((t for t in available if str(t.get("name", "")).lower() == name.lower()), None)
        if transition is None:
            names = ", ".join(str(t.get("name")) for t in available) or "(none: the account may lack the Transition " \
                                                                        "Issues permission)"
            raise ConfigError(f"Transition {name!r} is not available for {item.key} (status {item.status or '?'}).",
                              f"Transitions from that status: {names}. Set the "
                              f"{'close' if done else 'reopen'} transition to one of them.", field=field)
        self.client.transition(item.ref, transition)
        issue = self.client.issue(item.ref, FIELDS)
        if issue is None:
            raise JiraApiError(f"{item.key} disappeared after its transition.", "Check the issue in Jira.",
                               status=404)
        return self._item(issue)

    def get_item(self, text: str) -> RemoteItem:
        """The issue ``text`` names (``DEMO-12``, ``12``, a browse URL), checked to be in the project."""
        project = str(self.found.project["key"])
        match = _KEY.search(text.strip())
        key = match.group(1).upper() if match else f"{project}-{text.strip().lstrip('#')}" if (
            text.strip().lstrip("#").isdigit()) else ""
        if not key:
            raise ConfigError(f"{text!r} is not a Jira issue key, number or URL.",
                              f"Write it like {project}-12, 12 or {self.client.browse_url(project + '-12')}.",
                              field="item")
        with answers("Jira"):
            issue = self.client.issue(key, (*FIELDS, "project"))
        if issue is None:
            raise ConfigError(f"Jira has no issue {key} (or this account cannot see it).",
                              "Check the key in Jira.", field="item")
        in_project = str(((issue.get("fields") or {}).get("project") or {}).get("key") or "")
        if in_project != project:
            raise ConfigError(f"{issue.get('key', key)} is in project {in_project or '?'}, not in {project}.",
                              f"Link an issue of project {project}.", field="item")
        return self._item(issue)

    def close(self) -> None:
        self.client.close()

    # --- helpers --------------------------------------------------------------------------
    def _item(self, issue: dict[str, Any]) -> RemoteItem:
        fields = issue.get("fields") or {}
        key = text(issue, "key", server="Jira", what="an issue")
        status = str((fields.get("status") or {}).get("name", ""))
        summary = text(fields, "summary", server="Jira", what=f"issue {key}", optional=True)
        return RemoteItem(ref=key, key=key, title=summary, url=self.client.browse_url(key),
                          done=self.target.is_done(status), status=status, updated=parse_time(fields.get("updated")),
                          marks=marks_in(fields.get("labels") or ()))

    def _read_back(self, created: dict[str, dict[str, Any]]) -> dict[str, RemoteItem]:
        """Status and times of just-created issues, in one search (reconciled on Cloud)."""
        ids = [int(c["id"]) for c in created.values() if str(c.get("id", "")).isdigit()]
        query = jql.one_of("key", list(created))
        try:
            return {item.key: item for item in (self._item(i) for i in self.client.search(
                query, FIELDS, page_size=len(created), reconcile=ids))}
        except UserFacingError as exc:
            self.ctx.log(f"Could not read back the new issues: {exc}", "warning")
            return {}
