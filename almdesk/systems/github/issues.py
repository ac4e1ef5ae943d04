"""Issue operations shared by Create Defect, the gate and sync: create (safely retried), close/reopen, list.

Creating is not idempotent, so a failed POST whose fate is unknown (connection reset, timeout, 5xx)
is followed by a look at the newest issues: if one with the same title appeared since we started,
it is ours and is returned; otherwise the POST is sent again — except after a timeout or a 504, when
GitHub may still be creating it: then the create fails with a :class:`~almdesk.base.failures.FateUnknown`
(the engine waits before creating that task again), and a later sync finds the issue by its title.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import requests

from almdesk.base.failures import FateUnknown, with_fate
from almdesk.base.records import RemoteItem
from almdesk.base.shapes import integer, text
from almdesk.errors import ConfigError, RemoteError
from almdesk.net.bodies import json_body
from almdesk.systems.github.client import GitHubClient, transient
from almdesk.systems.github.errors import error_for
from almdesk.systems.github.fields import Target
from almdesk.systems.github.repo import RepoInfo
from almdesk.systems.marks import marks_in

PUBLIC_NOTE = ("This issue is tracked by almdesk. Its details are kept out of this repository because the "
               "repository is public.")
CREATE_ATTEMPTS = 3
UNKNOWN_FATE = (500, 502, 504)
STILL_WORKING = 504  # like a read timeout: the server may finish the create after we gave up


def issue_body(text: str, repo: RepoInfo, target: Target, footer: str = "") -> str:
    """The body to send: the text, unless the repository is public and the connection did not opt in."""
    if not repo.private and not target.public_content:
        return PUBLIC_NOTE + (f"\n\n{footer}" if footer else "")
    body = text.strip()
    if footer:
        body = f"{body}\n\n---\n{footer}" if body else footer
    return body


def check_writable(repo: RepoInfo) -> None:
    if not repo.has_issues:
        raise ConfigError(f"Issues are turned off for {repo.full_name}.",
                          "Turn on Issues in the repository's Settings → General → Features, or choose another "
                          "repository.", field="alm_project")
    if repo.archived:
        raise ConfigError(f"{repo.full_name} is archived, so it is read-only.",
                          "Unarchive it on GitHub, or choose another repository.", field="alm_project")


def parse_time(text: Any) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None


def remote_item(data: dict[str, Any]) -> RemoteItem:
    state = str(data.get("state") or "")
    reason = data.get("state_reason")
    status = f"{state} ({str(reason).replace('_', ' ')})" if state == "closed" and reason else state
    number = integer(data, "number", server="GitHub", what="an issue")
    title = text(data, "title", server="GitHub", what=f"issue #{number}")
    return RemoteItem(ref=str(number), key=f"#{number}", title=title,
                      url=str(data.get("html_url") or ""), done=state == "closed", status=status,
                      updated=parse_time(data.get("updated_at")),
                      marks=marks_in(lab.get("name") if isinstance(lab, dict) else lab for lab in data.get("labels") or ()))


class Issues:
    """The issues of one repository through one client."""

    def __init__(self, client: GitHubClient, target: Target) -> None:
        self.client = client
        self.target = target
        self.path = f"/repos/{quote(target.owner)}/{quote(target.repo)}/issues"

    def create(self, title: str, body: str, labels: list[str], milestone: int | None) -> dict[str, Any]:
        payload: dict[str, Any] = {"title": title, "body": body, "labels": labels}
        if milestone is not None:
            payload["milestone"] = milestone
        what = f"creating issue {title[:60]!r} in {self.target.full_name}"
        started = datetime.now(UTC) - timedelta(seconds=5)
        for attempt in range(1, CREATE_ATTEMPTS + 1):
            try:
                response = self.client.request("POST", self.path, what=what, body=payload, write=True,
                                               retry_transport=False)
            except RemoteError as exc:
                if not transient(exc) or attempt == CREATE_ATTEMPTS:
                    fate = with_fate(exc)
                    if fate is exc:
                        raise
                    raise fate from exc
                problem = exc.message.rstrip(".")
                in_flight = isinstance(exc.__context__, requests.exceptions.ReadTimeout)
            else:
                if response.status_code == 201:
                    data = json_body(response, self.client.server)
                    if isinstance(data, dict) and "number" in data:
                        return data
                    raise RemoteError(f"{self.client.server} sent an unexpected reply while {what}.",
                                      "Check that the API URL points at GitHub's REST API.")
                if response.status_code not in UNKNOWN_FATE or attempt == CREATE_ATTEMPTS:
                    raise with_fate(error_for(response, what, repo=self.target.full_name), response.status_code)
                problem = f"HTTP {response.status_code}"
                in_flight = response.status_code == STILL_WORKING
            found = self.find_created(title, started)
            if found is not None:
                self.client.log(f"{problem} while {what}, but GitHub did create it (#{found['number']}).")
                return found
            if in_flight:
                raise FateUnknown(f"{problem} while {what}; GitHub may still create it.",
                                  "Sync again later: an issue that was created is found by its title, not "
                                  "created twice.")
            delay = 0.5 * 2 ** (attempt - 1)
            self.client.log(f"{problem} while {what}; it was not created, so trying again in {delay:.1f} s.")
            self.client.sleep(delay)
        raise AssertionError("unreachable")

    def find_created(self, title: str, since: datetime) -> dict[str, Any] | None:
        """The newest issue titled ``title`` created after ``since`` (one page of the newest issues)."""
        params = {"state": "all", "sort": "created", "direction": "desc", "per_page": 30,
                  "since": since.strftime("%Y-%m-%dT%H:%M:%SZ")}
        data = self.client.get(self.path, what=f"checking whether {title[:60]!r} was created", params=params,
                               repo=self.target.full_name)
        for item in data if isinstance(data, list) else []:
            created = parse_time(item.get("created_at"))
            if item.get("title") == title and "pull_request" not in item and created and created >= since:
                return dict(item)
        return None

    def set_state(self, number: str, done: bool, reason: str = "completed") -> dict[str, Any]:
        body = {"state": "closed", "state_reason": reason} if done else {"state": "open", "state_reason": "reopened"}
        what = f"{'closing' if done else 'reopening'} issue #{number} in {self.target.full_name}"
        data = self.client.call("PATCH", f"{self.path}/{quote(str(number))}", what=what, body=body, write=True,
                                repo=self.target.full_name)
        if not isinstance(data, dict):
            raise RemoteError(f"{self.client.server} sent an unexpected reply while {what}.",
                              "Check that the API URL points at GitHub's REST API.")
        return data

    def pages(self, params: dict[str, Any], what: str) -> Iterator[list[dict[str, Any]]]:
        """Issues (pull requests left out) page by page."""
        for page in self.client.pages(self.path, what=what, params=params, repo=self.target.full_name):
            yield [i for i in page if isinstance(i, dict) and "pull_request" not in i]

