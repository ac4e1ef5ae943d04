"""GitHub's connector and connection fields, and the checks and derivations on their values.

Names follow sdetools where it had them (``alm_api_token``, ``github_repo_owner``, ``alm_project``,
``github_issue_label``, ``github_duplicate_label``, ``alm_project_version`` for the milestone).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from almdesk.base.fields import Field, FieldErrors, FieldKind
from almdesk.base.settings import ConnectionSettings, is_loopback
from almdesk.errors import ConfigError

GITHUB_API = "https://api.github.com"
TOKEN = "alm_api_token"
SECONDARY_PER_MINUTE = 80  # GitHub's limit on content-creating requests
DEFAULT_PACE_MS = 800  # 75 writes a minute: under the limit with a margin

OWNER_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
REPO_RE = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
DEFAULT_PRIORITY_MAP = {"1-3": "Low", "4-6": "Medium", "7-10": "High"}

CONNECTOR_FIELDS: tuple[Field, ...] = (
    Field("url", "API URL", FieldKind.URL, default=GITHUB_API, required=True, section="General",
          placeholder=GITHUB_API,
          help="https://api.github.com for GitHub.com; https://<your host>/api/v3 for GitHub Enterprise Server."),
    Field(TOKEN, "Token", FieldKind.SECRET, required=True, section="General",
          help="A personal access token: classic with the repo scope (public_repo for public repositories "
               "only), or fine-grained with Issues: Read and write on the repositories."),
    Field("github_repo_owner", "Default owner", FieldKind.TEXT, default="", section="General",
          placeholder="my-org", help="User or organisation owning the repositories; a connection may name another."),
    Field("github_write_pace_ms", "Pause between writes (ms)", FieldKind.INT, default=DEFAULT_PACE_MS, minimum=0,
          maximum=60000, section="General",
          help=f"GitHub allows {SECONDARY_PER_MINUTE} content-creating requests a minute; "
               f"{DEFAULT_PACE_MS} ms keeps under it."),
)

CONNECTION_FIELDS: tuple[Field, ...] = (
    Field("github_repo_owner", "Repository owner", FieldKind.TEXT, default="", section="Target",
          placeholder="empty: the connector's default owner", help="User or organisation owning the repository; empty: the connector's default."),
    Field("alm_project", "Repository", FieldKind.TEXT, required=True, section="Target", placeholder="my-repo",
          help="The repository's name (or owner/name)."),
    Field("github_issue_label", "Issue label", FieldKind.TEXT, default="almdesk", section="Target",
          allow_empty=True, placeholder="empty: no label",
          help="Put on every issue almdesk creates; only issues with it are looked at when syncing. Empty: no "
               "label (then every issue of the repository is a candidate)."),
    Field("github_duplicate_label", "Duplicate label", FieldKind.TEXT, default="duplicate", section="Target",
          allow_empty=True, placeholder="empty: no issue is skipped as a duplicate",
          help="Issues with this label, or closed as a duplicate, are ignored when looking up a task's issue. "
               "Empty: none is ignored."),
    Field("alm_project_version", "Milestone", FieldKind.TEXT, default="", section="Target",
          help="Title of a milestone to put new issues in (must exist); empty: none."),
    Field("github_public_content", "Send task text to public repositories", FieldKind.BOOL, default=False,
          section="Target",
          help="Off: a public repository gets only the title and a note, never the task's text."),
    Field("github_close_reason", "Close reason", FieldKind.CHOICE, default="completed",
          choices=("completed", "not_planned"), choice_labels=("Completed", "Not planned"), section="Status",
          help="The reason GitHub shows when almdesk closes an issue for a DONE or NA task."),
)


def normalize_api_url(url: str) -> str:
    """The REST API base for what an admin pastes: github.com → api.github.com, an Enterprise host → /api/v3."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    path = parts.path.rstrip("/")
    if host in ("github.com", "www.github.com"):
        return GITHUB_API
    if host == "api.github.com":
        return GITHUB_API if not path else urlunsplit((parts.scheme, parts.netloc, path, "", ""))
    if path.endswith("/api/v3"):
        return urlunsplit((parts.scheme, parts.netloc, path, "", ""))
    if not path and not is_loopback(host) and not host.startswith("api."):
        path = "/api/v3"  # an Enterprise server's web address: its API lives under /api/v3
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def check_connector(params: dict[str, Any]) -> dict[str, Any]:
    out = dict(params)
    errors: dict[str, ConfigError] = {}
    if out.get("url"):
        out["url"] = normalize_api_url(str(out["url"]))
    owner = str(out.get("github_repo_owner") or "").strip()
    if owner and not OWNER_RE.match(owner):
        errors["github_repo_owner"] = _owner_error(owner)
    out["github_repo_owner"] = owner
    if errors:
        raise FieldErrors(errors)
    return out


def _owner_error(owner: str) -> ConfigError:
    return ConfigError(f"{owner!r} is not a GitHub user or organisation name.",
                       "Use the name as it appears in the repository's address, e.g. my-org in "
                       "github.com/my-org/my-repo (letters, digits and single hyphens).", field="github_repo_owner")


def check_connection(params: dict[str, Any], default_owner: str = "") -> dict[str, Any]:
    """Syntax checks of the connection fields (``owner/name`` in Repository is split)."""
    out = dict(params)
    errors: dict[str, ConfigError] = {}
    repo = str(out.get("alm_project") or "").strip().strip("/")
    owner = str(out.get("github_repo_owner") or "").strip()
    if repo.count("/") == 1:
        given_owner, repo = repo.split("/")
        if owner and owner.lower() != given_owner.lower():
            errors["alm_project"] = ConfigError(
                f"Repository {given_owner}/{repo} names owner {given_owner!r}, but Repository owner is {owner!r}.",
                "Write only the repository's name, or make the two owners agree.", field="alm_project")
        owner = given_owner
    if repo.endswith(".git"):
        repo = repo[:-4]
    if not repo:
        errors["alm_project"] = ConfigError("Repository is required.", "Enter the repository's name.",
                                            field="alm_project")
    elif not REPO_RE.match(repo):
        errors["alm_project"] = ConfigError(f"{repo!r} is not a repository name.",
                                            "Use the name from the repository's address: letters, digits, "
                                            ". _ and - only.", field="alm_project")
    owner = owner or default_owner
    if not owner:
        errors["github_repo_owner"] = ConfigError("Repository owner is required.",
                                                  "Enter the user or organisation that owns the repository "
                                                  "(or a default owner on the connector).", field="github_repo_owner")
    elif not OWNER_RE.match(owner):
        errors["github_repo_owner"] = _owner_error(owner)
    for name in ("github_issue_label", "github_duplicate_label"):
        value = str(out.get(name) or "").strip()
        if "," in value:
            errors[name] = ConfigError("A label name cannot contain a comma.", "Enter a single label.", field=name)
        out[name] = value
    if errors:
        raise FieldErrors(errors)
    out["github_repo_owner"], out["alm_project"] = owner, repo
    return out


def priority_labels(text: str) -> dict[int, str]:
    """Priority (1–10) → label from ``alm_priority_map`` JSON ranges; empty text gives 7-10 High, 4-6 Medium…"""
    try:
        raw = json.loads(text) if text and text.strip() else DEFAULT_PRIORITY_MAP
    except ValueError as exc:
        raise ConfigError(f"Priority map is not valid JSON: {exc}.",
                          'Write it like {"1-3":"Low","4-6":"Medium","7-10":"High"}.', field="alm_priority_map") from None
    if not isinstance(raw, dict) or not raw:
        raise ConfigError("Priority map must be a JSON object of ranges.",
                          'Write it like {"1-3":"Low","4-6":"Medium","7-10":"High"}.', field="alm_priority_map")
    out: dict[int, str] = {}
    for key, label in raw.items():
        match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", str(key))
        low, high = (int(match.group(1)), int(match.group(2) or match.group(1))) if match else (0, -1)
        if not match or low > high or low < 1 or high > 10 or not isinstance(label, str) or not label.strip():
            raise ConfigError(f"Priority map entry {key!r}: {label!r} is not a range of 1–10 with a label.",
                              'Write ranges low to high, e.g. "7-10": "High".', field="alm_priority_map")
        for value in range(low, high + 1):
            if value in out:
                raise ConfigError(f"Priority {value} appears twice in the priority map.",
                                  "Each priority from 1 to 10 must be in exactly one range.", field="alm_priority_map")
            out[value] = label.strip()
    missing = [str(v) for v in range(1, 11) if v not in out]
    if missing:
        raise ConfigError(f"The priority map does not cover priority {', '.join(missing)}.",
                          "Each priority from 1 to 10 must be in exactly one range.", field="alm_priority_map")
    return out


@dataclass(frozen=True)
class Target:
    """What a connection points at, with every default settled."""

    owner: str
    repo: str
    issue_label: str
    duplicate_label: str
    milestone: str
    public_content: bool
    close_reason: str

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.repo}"


def target_of(connection: ConnectionSettings, workspace: str = "") -> Target:
    """The connection's target; ``workspace`` (``repo`` or ``owner/repo``) overrides its repository."""
    params = {f.name: f.default for f in CONNECTION_FIELDS}
    params.update({k: v for k, v in connection.params.items() if v is not None})
    if workspace.strip():
        params["alm_project"] = workspace.strip()
        if "/" in workspace.strip("/"):
            params["github_repo_owner"] = ""
    default_owner = str(connection.connector.params.get("github_repo_owner") or "")
    checked = check_connection(params, default_owner)
    return Target(owner=checked["github_repo_owner"], repo=checked["alm_project"],
                  issue_label=checked["github_issue_label"], duplicate_label=checked["github_duplicate_label"],
                  milestone=str(params.get("alm_project_version") or "").strip(),
                  public_content=bool(params.get("github_public_content")),
                  close_reason=str(params.get("github_close_reason") or "completed"))
