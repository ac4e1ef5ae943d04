"""Test Connection for GitHub: API reachable → token valid → repository visible → issues enabled →
write permission → labels and milestone. Without a connection: API, token, and the default owner.

A detail starting with "⚠" is shown as a warning (public repository, plain http, closed milestone).
The write check sends ``POST …/issues`` with an empty title: GitHub checks permissions before the
body, so a token that may write gets 422 and nothing is created, a read-only one gets 403.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypeVar
from urllib.parse import quote, urlsplit

from almdesk.base.records import Step
from almdesk.base.settings import ConnectionSettings, ConnectorSettings, is_loopback
from almdesk.errors import AuthError, ConfigError, RemoteError, UserFacingError
from almdesk.jobs.context import JobContext
from almdesk.net.bodies import check_sign_in_page
from almdesk.net.session import HttpFactory
from almdesk.systems.github.client import GitHubClient
from almdesk.systems.github.errors import WRITE_HINT, detail, error_for
from almdesk.systems.github.fields import GITHUB_API, TOKEN, Target, priority_labels, target_of
from almdesk.systems.github.ratelimit import limit_wait
from almdesk.systems.github.repo import RepoInfo, client_json, fetch_repo, find_milestone, label_names

URL_HINT = ("For GitHub.com use https://api.github.com; for GitHub Enterprise Server the API URL is "
            "https://<your host>/api/v3.")
T = TypeVar("T")
STEP_MAX_WAIT = 10.0  # Test Connection does not sit out a long rate-limit wait


@dataclass
class _State:
    client: GitHubClient
    login: str = ""
    scopes: list[str] | None = None  # None: not reported (fine-grained token or app)
    target: Target | None = None
    repo: RepoInfo | None = None
    notes: list[str] = field(default_factory=list)


def test_steps(connector: ConnectorSettings, connection: ConnectionSettings | None, http: HttpFactory) -> list[Step]:
    ctx = JobContext()
    state = _State(GitHubClient(connector, http, log=ctx.log, max_wait=STEP_MAX_WAIT))
    steps = [Step("api", "GitHub API reachable", lambda: _api(state)),
             Step("token", "Token valid", lambda: _token(state))]
    if connection is None:
        owner = str(connector.params.get("github_repo_owner") or "")
        if owner:
            steps.append(Step("owner", "Default owner exists", lambda: _owner(state, owner)))
        return steps
    return [
        *steps,
        Step("repo", "Repository visible", lambda: _repo(state, connection)),
        Step("issues", "Issues enabled", lambda: _issues(state)),
        Step("write", "Write permission", lambda: _write(state)),
        Step("labels", "Labels and milestone", lambda: _labels(state, connection)),
    ]


def _api(state: _State) -> str:
    client = state.client
    response = client.request("GET", "/meta", what="reaching the API", anonymous=True)
    if response.status_code == 401:  # an Enterprise server in private mode: ask again, signed in
        response = client.request("GET", "/meta", what="reaching the API")
        if response.status_code == 401:
            return f"{client.server} answers (it wants sign-in even for its version)"
    check_sign_in_page(response, client.api)
    ctype = response.headers.get("Content-Type", "").lower()
    if response.status_code != 200 or "json" not in ctype:
        kind = "a web page" if "html" in ctype else f"HTTP {response.status_code}"
        raise RemoteError(f"No GitHub REST API answers at {client.api} (got {kind}).", URL_HINT, field="url")
    try:
        body = client_json(client, response, "reaching the API")
    except UserFacingError:
        raise RemoteError(f"{client.api} does not answer like GitHub's REST API.", URL_HINT, field="url") from None
    version = response.headers.get("X-GitHub-Enterprise-Version") or str(body.get("installed_version") or "")
    if version:
        detail = f"GitHub Enterprise Server {version} at {urlsplit(client.api).netloc}"
    elif client.api == GITHUB_API:
        detail = "GitHub.com REST API"
    else:
        detail = f"GitHub REST API at {client.api}"
    parts = urlsplit(client.api)
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        return f"⚠ {detail}, over plain http: the token travels unencrypted; use https if the server offers it"
    return detail


def _token(state: _State) -> str:
    client = state.client
    if not client.has_token:
        raise ConfigError("The token is empty.", "Enter a personal access token in the connector's Token field.",
                          field=TOKEN)
    response = client.request("GET", "/user", what="signing in")
    data = client_json(client, response, "signing in")
    state.login = str(data.get("login") or "?")
    header = response.headers.get("X-OAuth-Scopes")
    state.scopes = None if header is None else [s.strip() for s in header.split(",") if s.strip()]
    left = response.headers.get("x-ratelimit-remaining")
    budget = f"; {left} of {response.headers.get('x-ratelimit-limit')} requests left this hour" if left else ""
    if state.scopes is None:
        return f"signed in as {state.login} (fine-grained token or app: GitHub does not report its scopes){budget}"
    scopes = ", ".join(state.scopes) or "none"
    if not {"repo", "public_repo"} & set(state.scopes):
        return (f"⚠ signed in as {state.login}, but the token's scopes ({scopes}) include neither repo nor "
                f"public_repo: it cannot create issues{budget}")
    return f"signed in as {state.login} (classic token; scopes: {scopes}){budget}"


def _owner(state: _State, owner: str) -> str:
    response = state.client.request("GET", f"/users/{quote(owner)}", what=f"looking up {owner}")
    if response.status_code == 404:
        raise ConfigError(f"There is no GitHub user or organisation called {owner!r}.",
                          "Check the spelling of the default owner (as in github.com/OWNER/REPO).",
                          field="github_repo_owner")
    data = client_json(state.client, response, f"looking up {owner}")
    kind = "organisation" if data.get("type") == "Organization" else "user"
    return f"{kind} {data.get('login', owner)}"


def _repo(state: _State, connection: ConnectionSettings) -> str:
    state.target = target = target_of(connection)
    state.repo = repo = fetch_repo(state.client, target)
    renamed = f" (now {repo.full_name})" if repo.full_name.lower() != target.full_name.lower() else ""
    role = f"role of {state.login}: {repo.role}" if state.login else f"role: {repo.role}"
    if repo.private:
        return f"{repo.full_name}{renamed}: private; {role}"
    if target.public_content:
        return (f"⚠ {repo.full_name}{renamed} is PUBLIC and this connection sends task text to it: anyone can "
                f"read it; {role}")
    return (f"⚠ {repo.full_name}{renamed} is PUBLIC: issues get only the title and a note, never the task text "
            f"(turn on 'Send task text to public repositories' to change that); {role}")


def _issues(state: _State) -> str:
    repo = _known(state.repo)
    if not repo.has_issues:
        raise ConfigError(f"Issues are turned off for {repo.full_name}.",
                          "Turn on Issues in the repository's Settings → General → Features, or choose another "
                          "repository.", field="alm_project")
    if repo.archived:
        raise ConfigError(f"{repo.full_name} is archived, so it is read-only.",
                          "Unarchive it on GitHub (Settings → Danger Zone), or choose another repository.",
                          field="alm_project")
    return f"issues are on in {repo.full_name}"


def _write(state: _State) -> str:
    repo = _known(state.repo)
    who = state.login or "the token's user"
    if repo.permissions and not repo.can_push:
        raise AuthError(f"{who} has {repo.role} access to {repo.full_name}; almdesk needs write access.",
                        "Without it GitHub silently drops the labels and milestone of new issues, so synced issues "
                        f"cannot be found again. Ask a repository admin to give {who} the Write role "
                        "(Settings → Collaborators and teams).", field=TOKEN)
    if state.scopes is not None:
        needed = {"repo"} if repo.private else {"repo", "public_repo"}
        if not needed & set(state.scopes):
            raise AuthError(f"The classic token lacks the {' or '.join(sorted(needed))} scope needed to write "
                            f"to {repo.full_name}.", "Edit the token on GitHub (Settings → Developer settings) and "
                            "tick the repo scope, or create a new one.", field=TOKEN)
    what = f"checking that the token may create issues in {repo.full_name}"
    path = f"/repos/{quote(_known(state.target).owner)}/{quote(_known(state.target).repo)}/issues"
    response = state.client.request("POST", path, what=what, body={"title": ""}, write=True, idempotent=True)
    if response.status_code == 422:
        return f"{who} ({repo.role}) may create and close issues; checked without creating anything"
    if response.status_code in (200, 201):
        raise RemoteError(f"{state.client.server} accepted an issue with an empty title in {repo.full_name}.",
                          "This server does not behave like GitHub; check the API URL.")
    if response.status_code in (403, 404) and not limit_wait(response):
        raise AuthError(f"The token may read {repo.full_name} but not create issues there: {detail(response)} "
                        f"(HTTP {response.status_code}).", WRITE_HINT, field=TOKEN)
    raise error_for(response, what, repo=repo.full_name)


def _labels(state: _State, connection: ConnectionSettings) -> str:
    target = _known(state.target)
    names = {n.lower(): n for n in label_names(state.client, target)}
    parts = []
    if target.issue_label:
        found = target.issue_label.lower() in names
        parts.append(f"label {target.issue_label!r} " + ("exists" if found else "will be created with the first issue"))
    else:
        parts.append("no issue label: every issue of the repository is looked at when syncing")
    priorities = sorted(set(priority_labels(str(connection.params.get("alm_priority_map") or "")).values()))
    missing = [p for p in priorities if p.lower() not in names]
    parts.append(f"priority labels {', '.join(priorities)}"
                 + (f" ({', '.join(missing)} will be created)" if missing else ""))
    warn = False
    if target.milestone:
        number, ms_state = find_milestone(state.client, target, target.milestone)
        parts.append(f"milestone {target.milestone!r} is #{number} ({ms_state})")
        warn = ms_state == "closed"
    if target.duplicate_label and target.duplicate_label.lower() not in names:
        parts.append(f"no {target.duplicate_label!r} label yet")
    state.client.close()
    return ("⚠ " if warn else "") + "; ".join(parts)


def _known(value: T | None) -> T:
    if value is None:
        raise UserFacingError("An earlier step did not finish.", "Run Test Connection again.")
    return value
