"""The GitHub sync adapter (the engine in :mod:`almdesk.sync` drives it; see ``SyncAdapter``).

- ``iter_items`` lists open **and** closed issues of the repository carrying the connection's issue
  label, 100 a page, leaving out pull requests and duplicates: issues labelled so (sdetools' rule) or
  closed as duplicates (``state_reason: duplicate``).
- ``create_items`` creates one issue per request (GitHub has no bulk create), paced under the
  secondary rate limit, with the issue label, the priority label and the milestone; a draft that is
  already done is closed right after. A public repository gets no task text unless the connection
  opts in.
- ``set_done`` closes (with the connection's close reason) or reopens.
- ``get_item`` reads one issue named by number, ``#number`` or URL for ``almdesk link``, checking it is an
  issue (not a pull request) of the connection's repository.

Context mark: every new issue gets the label :func:`~almdesk.systems.marks.context_mark` of the connection's
``alm_context`` next to the issue label. A label because GitHub issues have no custom fields, a label is
created on first use by anyone with write access (which syncing needs anyway), the mark stays under
GitHub's 50-character limit for label names, and the listing already returns every issue's labels, so
reading marks costs no request. The title and body people read are unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import quote

from almdesk.base.records import ItemDraft, RemoteItem
from almdesk.base.settings import ConnectionSettings
from almdesk.errors import AuthError, CancelledError, ConfigError, UserFacingError
from almdesk.jobs.context import JobContext
from almdesk.net.session import HttpFactory
from almdesk.systems.github.client import PER_PAGE, GitHubClient, RateLimited
from almdesk.systems.github.fields import TOKEN, Target, priority_labels, target_of
from almdesk.systems.github.issues import Issues, check_writable, issue_body, remote_item
from almdesk.systems.github.repo import RepoInfo, fetch_repo, find_milestone
from almdesk.systems.marks import context_mark

_ISSUE_URL = re.compile(r"/(?:repos/)?([^/\s]+)/([^/\s]+)/(?:issues|pull)/(\d+)(?:$|[/?#])")
BULK_SIZE = 10  # issues per create_items call: one request each, so this only bounds a batch's length
CONCURRENCY = 1  # GitHub asks for writes one at a time (secondary rate limits): creates stay serial


class GitHubSyncAdapter:
    """One connection's issues for one sync job."""

    bulk_size = BULK_SIZE
    concurrency = CONCURRENCY
    page_size = PER_PAGE

    def __init__(self, connection: ConnectionSettings, http: HttpFactory, ctx: JobContext) -> None:
        self.connection = connection
        self.ctx = ctx
        self.client = GitHubClient(connection.connector, http, log=lambda m: ctx.log(m, "warning"), sleep=ctx.sleep)
        self._target: Target | None = None
        self._repo: RepoInfo | None = None
        self._issues: Issues | None = None
        self.milestone: int | None = None
        self.priorities: dict[int, str] = {}
        self.mark = context_mark(connection.params.get("alm_context"))

    # --- SyncAdapter -------------------------------------------------------------------------
    def prepare(self) -> None:
        self._target = target = target_of(self.connection)
        self.priorities = priority_labels(str(self.connection.params.get("alm_priority_map") or ""))
        self._repo = repo = fetch_repo(self.client, target)
        check_writable(repo)
        if repo.permissions and not repo.can_push:
            raise AuthError(f"The token's user has {repo.role} access to {repo.full_name}; syncing needs write "
                            "access (GitHub silently drops labels set by others, so issues could not be found "
                            "again).", "Ask a repository admin for the Write role, or use another token.", field=TOKEN)
        if target.milestone:
            self.milestone, state = find_milestone(self.client, target, target.milestone)
            if state == "closed":
                self.ctx.log(f"Milestone {target.milestone!r} is closed; new issues are still put in it.", "warning")
        self._issues = Issues(self.client, target)
        if not repo.private:
            self.ctx.log(f"{repo.full_name} is public: " + (
                "this connection sends task text to it." if target.public_content else
                "new issues get only their title and a note, never the task text."), "warning")
        pace = self.client.limiter.interval
        if pace > 0:
            self.ctx.log(f"Writes to GitHub are paced {pace:.2f} s apart (GitHub allows 80 content-creating "
                         "requests a minute).")

    def iter_items(self) -> Iterator[RemoteItem]:
        target, issues = self._ready()
        params: dict[str, Any] = {"state": "all", "sort": "created", "direction": "asc"}
        if target.issue_label:
            params["labels"] = target.issue_label
        duplicate = target.duplicate_label.lower()
        what = f"listing the issues of {target.full_name}"
        for page in issues.pages(params, what):
            for item in page:
                names = {str(lab.get("name", "")).lower() for lab in item.get("labels", []) if isinstance(lab, dict)}
                if duplicate and (duplicate in names or item.get("state_reason") == "duplicate"):
                    continue  # labelled, or closed with GitHub's "Close as duplicate" (no label needed)
                yield remote_item(item)

    def create_items(self, drafts: Sequence[ItemDraft]) -> list[RemoteItem | Exception]:
        target, issues = self._ready()
        repo = self._repo
        assert repo is not None
        results: list[RemoteItem | Exception] = []
        stop: Exception | None = None
        for draft in drafts:
            if stop is None and self.ctx.cancelled():
                stop = CancelledError("cancelled before this item was created")
            if stop is not None:
                results.append(stop)
                continue
            labels = [target.issue_label, self.mark, self.priorities.get(draft.priority, "")]
            labels = list(dict.fromkeys(lab for lab in labels if lab))
            body = issue_body(draft.text, repo, target, f"Task {draft.task_id}, synced by almdesk.")
            try:
                data = issues.create(draft.title, body, labels, self.milestone)
            except CancelledError:
                stop = CancelledError("cancelled before this item was created")
                results.append(stop)
                continue
            except UserFacingError as exc:
                results.append(exc)
                if isinstance(exc, AuthError | ConfigError | RateLimited):
                    stop = exc  # the next ones would fail the same way: do not send them
                continue
            item = remote_item(data)
            if draft.done:
                try:
                    item = remote_item(issues.set_state(item.ref, True, target.close_reason))
                except CancelledError:
                    stop = CancelledError("cancelled before this item was created")
                except UserFacingError as exc:
                    self.ctx.log(f"Created {item.key} but could not close it: {exc}", "warning")
            results.append(item)
        return results

    def set_done(self, item: RemoteItem, done: bool) -> RemoteItem:
        target, issues = self._ready()
        return remote_item(issues.set_state(item.ref, done, target.close_reason))

    def get_item(self, text: str) -> RemoteItem:
        """The issue ``text`` names (``12``, ``#12``, its web or API URL), checked to be in the repository."""
        target, issues = self._ready()
        text = text.strip()
        match = _ISSUE_URL.search(text)
        if match:
            owner, repo, number = match.groups()
            if (owner.lower(), repo.lower()) != (target.owner.lower(), target.repo.lower()):
                raise ConfigError(f"{text} is in {owner}/{repo}, not in {target.full_name}.",
                                  f"Link an issue of {target.full_name}.", field="item")
        elif text.lstrip("#").isdigit():
            number = text.lstrip("#")
        else:
            raise ConfigError(f"{text!r} is not a GitHub issue number or URL.",
                              f"Write it like 12, #12 or https://github.com/{target.full_name}/issues/12.", field="item")
        data = self.client.get(f"{issues.path}/{quote(number)}", what=f"reading issue #{number}", repo=target.full_name,
                               not_found=ConfigError(f"{target.full_name} has no issue #{number}.",
                                                     "Check the number on GitHub.", field="item"))
        if not isinstance(data, dict) or "number" not in data or "pull_request" in data:
            raise ConfigError(f"#{number} of {target.full_name} is a pull request, not an issue.",
                              "Link an issue.", field="item")
        return remote_item(data)

    def close(self) -> None:
        self.client.close()

    # --- internals ---------------------------------------------------------------------------
    def _ready(self) -> tuple[Target, Issues]:
        if self._target is None or self._issues is None:
            self.prepare()
        assert self._target is not None and self._issues is not None
        return self._target, self._issues
