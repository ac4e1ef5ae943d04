"""Resolving what a connection names: the repository (with the token's role on it), milestones, labels.

Each lookup fails with a :class:`~almdesk.errors.ConfigError` on the field at fault that lists the
valid values (repositories the token can see, milestone titles) so the admin can pick one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests

from almdesk.errors import ConfigError, UserFacingError
from almdesk.net.bodies import json_body
from almdesk.systems.github.client import GitHubClient
from almdesk.systems.github.errors import error_for
from almdesk.systems.github.fields import Target

ROLE_ORDER = ("admin", "maintain", "push", "triage", "pull")
ROLE_NAMES = {"admin": "admin", "maintain": "maintain", "push": "write", "triage": "triage", "pull": "read"}
LIST_LIMIT = 15


def listing(names: list[str]) -> str:
    shown = ", ".join(names[:LIST_LIMIT])
    return shown + (f" and {len(names) - LIST_LIMIT} more" if len(names) > LIST_LIMIT else "")


@dataclass(frozen=True)
class RepoInfo:
    full_name: str
    private: bool
    has_issues: bool
    archived: bool
    permissions: dict[str, bool]
    html_url: str

    @property
    def role(self) -> str:
        """The user's role, in GitHub's words (admin, maintain, write, triage, read), or "unknown"."""
        for key in ROLE_ORDER:
            if self.permissions.get(key):
                return ROLE_NAMES[key]
        return "unknown" if not self.permissions else "none"

    @property
    def can_push(self) -> bool:
        return bool(self.permissions.get("push") or self.permissions.get("maintain") or self.permissions.get("admin"))

    @property
    def visibility(self) -> str:
        return "private" if self.private else "public"


def fetch_repo(client: GitHubClient, target: Target) -> RepoInfo:
    """GET the repository; a 404 becomes an error naming the repositories the token can see."""
    path = f"/repos/{quote(target.owner)}/{quote(target.repo)}"
    response = client.request("GET", path, what=f"reading repository {target.full_name}")
    if response.status_code == 404:
        raise repo_not_found(client, target)
    data = client_json(client, response, f"reading repository {target.full_name}")
    return RepoInfo(full_name=str(data.get("full_name") or target.full_name), private=bool(data.get("private")),
                    has_issues=bool(data.get("has_issues", True)), archived=bool(data.get("archived")),
                    permissions={k: bool(v) for k, v in (data.get("permissions") or {}).items()},
                    html_url=str(data.get("html_url") or ""))


def client_json(client: GitHubClient, response: requests.Response, what: str) -> dict[str, Any]:
    """The JSON object of a 200 response, or the mapped error."""
    if response.status_code != 200:
        raise error_for(response, what)
    data = json_body(response, client.server)
    if not isinstance(data, dict):
        raise UserFacingError(f"{client.server} sent an unexpected reply while {what}.",
                              "Check that the API URL points at GitHub's REST API.")
    return data


def repo_not_found(client: GitHubClient, target: Target) -> ConfigError:
    owner_response = client.request("GET", f"/users/{quote(target.owner)}", what=f"looking up {target.owner}")
    if owner_response.status_code == 404:
        return ConfigError(f"There is no GitHub user or organisation called {target.owner!r}.",
                           "Check the spelling of the repository owner (as in github.com/OWNER/REPO).",
                           field="github_repo_owner")
    names = visible_repos(client, target.owner)
    if names:
        seen = f"Repositories of {target.owner} this token can see: {listing(names)}."
    else:
        seen = f"This token can see no repository of {target.owner}."
    return ConfigError(f"Repository {target.full_name} was not found, or this token cannot see it.",
                       f"{seen} Check the name; for a private repository a classic token needs the repo scope, a "
                       "fine-grained token access to that repository.", field="alm_project")


def visible_repos(client: GitHubClient, owner: str) -> list[str]:
    """Names of ``owner``'s repositories the token's user belongs to (best effort: [] on any failure)."""
    names: list[str] = []
    try:
        for page in client.pages("/user/repos", what="listing your repositories", params={"sort": "full_name"}):
            names += [str(r.get("name")) for r in page
                      if isinstance(r, dict) and str((r.get("owner") or {}).get("login", "")).lower() == owner.lower()]
            if len(names) > 200:
                break
    except UserFacingError:
        return []
    return sorted(names, key=str.lower)


def find_milestone(client: GitHubClient, target: Target, title: str,
                   field: str = "alm_project_version") -> tuple[int, str]:
    """The number and state of the milestone titled ``title`` (case-insensitive if unique).

    ``field`` is the input the title came from (the connection's Milestone, or a Release box).
    """
    match = milestone_named(client, target, title, field)
    return int(match["number"]), str(match.get("state", "open"))


def milestone_named(client: GitHubClient, target: Target, title: str,
                    field: str = "alm_project_version") -> dict[str, Any]:
    """The milestone titled ``title`` (exactly, else case-insensitively if unique), as GitHub sent it."""
    found: list[dict[str, Any]] = []
    for page in client.pages(f"/repos/{quote(target.owner)}/{quote(target.repo)}/milestones",
                             what=f"listing the milestones of {target.full_name}", params={"state": "all"},
                             repo=target.full_name):
        found += [m for m in page if isinstance(m, dict)]
    exact = [m for m in found if m.get("title") == title]
    loose = [m for m in found if str(m.get("title", "")).lower() == title.lower()]
    match = exact or (loose if len(loose) == 1 else [])
    if not match:
        titles = sorted({str(m.get("title")) for m in found}, key=str.lower)
        hint = f"Milestones of {target.full_name}: {listing(titles)}." if titles else \
            f"{target.full_name} has no milestones yet; create one on GitHub or clear the field."
        raise ConfigError(f"Milestone {title!r} does not exist in {target.full_name}.", hint, field=field)
    return match[0]


def label_names(client: GitHubClient, target: Target) -> list[str]:
    names: list[str] = []
    for page in client.pages(f"/repos/{quote(target.owner)}/{quote(target.repo)}/labels",
                             what=f"listing the labels of {target.full_name}", repo=target.full_name):
        names += [str(lab.get("name")) for lab in page if isinstance(lab, dict)]
    return names
