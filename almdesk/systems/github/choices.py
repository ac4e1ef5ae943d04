"""What GitHub can list for a form's pickers: the repositories the token's user can reach (of the
connection's owner when one is set) and a repository's milestones.

Contract (:class:`~almdesk.systems.base.ChoicesModule`): ``choices(field, connector, params, http)``
returns (value, label) pairs, read with the connector settings and the params as given. Milestones
need the repository (``alm_project``): without it, a ConfigError names that field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from almdesk.base.settings import ConnectionSettings, ConnectorSettings
from almdesk.errors import ConfigError
from almdesk.net.session import HttpFactory
from almdesk.systems.github.client import GitHubClient
from almdesk.systems.github.fields import target_of

LISTABLE = frozenset({"alm_project", "alm_project_version"})
MOST = 500  # repositories listed at most


def choices(field: str, connector: ConnectorSettings, params: Mapping[str, Any],
            http: HttpFactory) -> list[tuple[str, str]]:
    client = GitHubClient(connector, http)
    try:
        if field == "alm_project":
            owner = str(params.get("github_repo_owner") or connector.params.get("github_repo_owner") or "").strip()
            return _repos(client, owner)
        if field == "alm_project_version":
            if not str(params.get("alm_project") or "").strip():
                raise ConfigError("Enter the repository first.", "The milestones are the repository's; pick it "
                                  "from the server or type it.", field="alm_project")
            target = target_of(ConnectionSettings("picker", connector, dict(params)))
            out: list[tuple[str, str]] = []
            for page in client.pages(f"/repos/{quote(target.owner)}/{quote(target.repo)}/milestones",
                                     what=f"listing the milestones of {target.full_name}", params={"state": "all"},
                                     repo=target.full_name):
                out += [(str(m["title"]), str(m["title"]) + (" (closed)" if m.get("state") == "closed" else ""))
                        for m in page if isinstance(m, dict) and m.get("title")]
            return out
        raise ConfigError(f"GitHub cannot list {field!r}.", "Type the value instead.", field=field)
    finally:
        client.close()


def _repos(client: GitHubClient, owner: str) -> list[tuple[str, str]]:
    """The repositories of ``owner`` (all reachable ones without an owner, as owner/name)."""
    out: list[tuple[str, str]] = []
    for page in client.pages("/user/repos", what="listing your repositories", params={"sort": "full_name"}):
        for repo in page:
            if not isinstance(repo, dict):
                continue
            login = str((repo.get("owner") or {}).get("login", ""))
            if owner and login.lower() != owner.lower():
                continue
            value = str(repo.get("name")) if owner else f"{login}/{repo.get('name')}"
            out.append((value, value + (" (private)" if repo.get("private") else "")))
        if len(out) >= MOST:
            break
    return out
