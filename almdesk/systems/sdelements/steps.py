"""Test Connection for SD Elements (after settings → DNS → TCP → TLS → HTTP, which every system
shares): API answers → token valid (``users/me/``: who) → server version (``server-info/``) → and,
for a bound project, project found and the permissions a sync needs (``sync_with_alm`` to record
references, ``mark_task`` to write statuses back).

A detail starting with "⚠" is shown as a warning (plain http to a remote host; a permission only
write-back needs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from almdesk.base.records import Step
from almdesk.base.settings import ConnectorSettings, is_loopback
from almdesk.errors import AuthError, ConfigError, RemoteError
from almdesk.jobs.context import JobContext
from almdesk.net.session import HttpFactory
from almdesk.systems.sdelements.client import SdeClient
from almdesk.systems.sdelements.fields import TOKEN
from almdesk.systems.sdelements.source import hierarchy, read_project

URL_HINT = "Server URL is the SD Elements address you open in the browser, e.g. https://sde.example.com."
STEP_MAX_WAIT = 10.0
NEEDED = (("sync_with_alm", "record the ALM items as task references"),
          ("mark_task", "write the statuses the ALM settles back to the tasks"))


@dataclass
class _State:
    client: SdeClient
    who: str = ""
    facts: dict[str, Any] = field(default_factory=dict)


def test_steps(connector: ConnectorSettings, project: int | None, http: HttpFactory) -> list[Step]:
    """The SD Elements steps; ``project`` is the bound server project's id (None: the connector alone)."""
    state = _State(SdeClient(connector, http, log=JobContext().log, max_wait=STEP_MAX_WAIT))
    steps = [Step("api", "SD Elements API answers", lambda: _api(state)),
             Step("token", "API token valid", lambda: _token(state)),
             Step("version", "Server version", lambda: _version(state))]
    if project is not None:
        steps += [Step("project", "Project found", lambda: _project(state, project)),
                  Step("permissions", "Permissions to sync", lambda: _permissions(state, project))]
    return steps


def _api(state: _State) -> str:
    client = state.client
    session = client.session
    saved = session.headers.pop("Authorization", None)  # an anonymous ask tells the API from a portal
    try:
        response = client.request("GET", "users/me/", what="reaching the API")
    finally:
        if saved is not None:
            session.headers["Authorization"] = saved
    if "html" in response.headers.get("Content-Type", "").lower():
        raise client.html_error(response, "reaching the API")
    if response.status_code == 404:
        raise RemoteError(f"There is no SD Elements API v2 at {client.api} (HTTP 404).", URL_HINT, field="url")
    if response.status_code not in (200, 401, 403):
        raise client.error_for(response, "reaching the API")
    detail = f"API v2 at {client.api}"
    parts = urlsplit(client.root)
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        return f"⚠ {detail}, over plain http: the token travels unencrypted; use https"
    return detail


def _token(state: _State) -> str:
    client = state.client
    if not client.has_token:
        raise ConfigError("The API token is empty.", "Enter an API v2 token in the connector's API token field.",
                          field=TOKEN)
    me = client.get("users/me/", what="checking the API token")
    name = " ".join(str(me.get(k) or "") for k in ("first_name", "last_name")).strip()
    state.who = f"{name} <{me.get('email')}>" if name else str(me.get("email") or me.get("id"))
    role = me.get("role")
    role_name = role.get("name") if isinstance(role, dict) else role
    return f"signed in as {state.who}" + (f" ({role_name})" if role_name else "")


def _version(state: _State) -> str:
    info = state.client.get("server-info/", what="reading the server version")
    release = info.get("release") if isinstance(info, dict) else None
    name = release.get("name") if isinstance(release, dict) else None
    date = release.get("date") if isinstance(release, dict) else None
    if not name:
        return "⚠ the server does not say its version (server-info/ has no release)"
    sso = info.get("sso_settings") or {}
    sso_text = f"; single sign-on: {sso.get('sso_type')}" if isinstance(sso, dict) and sso.get("sso_type") not in (
        None, "", "none") else ""
    return f"SD Elements {name}" + (f" ({date})" if date else "") + sso_text


def _project(state: _State, project: int) -> str:
    data = read_project(state.client, project, permissions=True)
    state.facts["project"] = data
    bu, app = hierarchy(state.client, data)
    archived = " — ⚠ archived" if data.get("archived") else ""
    text = f"{bu} / {app} / {data.get('name')} (id {project}){archived}"
    return ("⚠ " + text) if archived else text


def _permissions(state: _State, project: int) -> str:
    data = state.facts.get("project") or read_project(state.client, project, permissions=True)
    have = set(data.get("permissions") or [])
    missing = [(p, why) for p, why in NEEDED if p not in have]
    if missing:
        names = ", ".join(p for p, _ in missing)
        raise AuthError(f"{state.who or 'The token'} lacks {names} on project {data.get('name')!r}: almdesk could "
                        f"not {' or '.join(why for _, why in missing)}.",
                        "Ask an SD Elements admin for a project role with these permissions (Manage Project has "
                        "them) on this project, or use another user's API token.", field=TOKEN)
    extra = "" if "write_task_note" in have else " (⚠ no write_task_note: status notes may be refused)"
    return f"{', '.join(p for p, _ in NEEDED)} granted" + extra
