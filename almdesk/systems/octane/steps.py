"""Test Connection for ALM Octane: the steps after the shared network ones (DNS, TCP, TLS).

server version → sign in → shared space → workspace → role allows creating items →
user exists → (with a connection) connection settings. Each step returns a one-line detail or
raises a UserFacingError saying what failed and how to fix it. The session is signed out when a
step fails and after the last step.
"""

from __future__ import annotations

from collections.abc import Callable

from almdesk.base.records import Step
from almdesk.base.settings import ConnectionSettings, ConnectorSettings
from almdesk.errors import AuthError, ConfigError, RemoteError
from almdesk.net.bodies import json_body
from almdesk.net.session import HttpFactory, send
from almdesk.systems.octane import resolve
from almdesk.systems.octane.client import OctaneClient
from almdesk.systems.octane.fields import Site, site
from almdesk.systems.octane.location import plain_http_warning
from almdesk.systems.octane.target import DEFAULTS, resolve_target

ROLE_HINT = ("Authorization failure. Validate that Client ID is assigned to 'CI/CD Integration' role: in ALM Octane "
             "open Settings › Spaces › API Access, edit the key and add the CI/CD Integration role for workspace {ws}.")


def list_workspaces(client: OctaneClient) -> list[tuple[str, str]]:
    """(id, name) of the workspaces the API key can use in its shared space."""
    what = f"listing the workspaces of shared space {client.shared_space}"
    resp = client.request("GET", client.space_url("/workspaces"), params={"fields": "name", "limit": 1000,
                                                                           "order_by": "id"}, what=what)
    if resp.status_code == 404:
        raise ConfigError(f"shared space {client.shared_space} not found — check the number after p= in the Location.",
                          "Copy the Location again from the browser while ALM Octane shows your workspace.",
                          field="shared_space")
    if resp.status_code == 403:
        raise AuthError(f"Client ID {client.client_id!r} has no access to shared space {client.shared_space}.",
                        "API keys belong to one shared space: use a key created in this shared space, or fix p= in "
                        "the Location.", field="shared_space")
    body = client.check(resp, what)
    return [(str(w["id"]), str(w.get("name", ""))) for w in body.get("data", [])]


def _listing(workspaces: list[tuple[str, str]]) -> str:
    shown = ", ".join(f"{i} {n}" for i, n in workspaces[:30])
    more = len(workspaces) - 30
    return shown + (f" and {more} more" if more > 0 else "") if workspaces else "(none)"


class _Probe:
    """State shared by the steps of one Test Connection run."""

    def __init__(self, connector: ConnectorSettings, connection: ConnectionSettings | None, http: HttpFactory) -> None:
        self.connector = connector
        self.connection = connection
        self.http = http
        self._site: Site | None = None
        self._client: OctaneClient | None = None
        self.workspaces: list[tuple[str, str]] = []
        self.noun = DEFAULTS[str(connection.params.get("item_type") or "defect")]["collection"] if connection \
            else "defects"

    @property
    def site(self) -> Site:
        if self._site is None:  # parsed when the first step runs, so a bad Location fails that step
            self._site = site(self.connector)
        return self._site

    @property
    def client(self) -> OctaneClient:
        if self._client is None:
            info = self.site
            self._client = OctaneClient(info.server, info.shared_space, info.client_id, info.client_secret,
                                        self.http)
        return self._client

    @property
    def workspace(self) -> str:
        ws = str(self.connection.params.get("workspace") or "").strip() if self.connection else ""
        return ws or self.site.workspace

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def guard(self, fn: Callable[[], str], last: bool = False) -> Callable[[], str]:
        def run() -> str:
            try:
                return fn()
            except BaseException:
                self.close()
                raise
            finally:
                if last:
                    self.close()
        return run

    # --- steps --------------------------------------------------------------------------------
    def server_version(self) -> str:
        server = self.site.server
        url = f"{server}/admin/server/version"
        session = self.http.session(origin=server)
        try:
            resp = send(session, "GET", url, what="ALM Octane")
        finally:
            session.close()
        if resp.status_code == 404:
            raise RemoteError(f"No ALM Octane at {server}: {url} answered 404.",
                              "Check the Location: the part before /ui must be the Octane server, including its web "
                              "context if Octane is installed under one.", field="location")
        if resp.status_code >= 400:
            raise RemoteError(f"HTTP connection to {server} failed: {url} answered HTTP {resp.status_code}.",
                              "The server or a proxy in front of it is failing; try again later or check the Network "
                              "tab.", field="location")
        body = json_body(resp, f"ALM Octane at {server}")
        if not isinstance(body, dict) or not (body.get("display_version") or body.get("version")):
            raise RemoteError(f"{server} answered but does not look like ALM Octane (no server version).",
                              "Check the Location points at ALM Octane.", field="location")
        detail = f"ALM Octane {body.get('display_version') or body.get('version')} at {server}"
        warning = plain_http_warning(server)
        return f"⚠ {detail} — {warning}" if warning else detail

    def sign_in(self) -> str:
        self.client.sign_in()
        return f"Signed in with Client ID {self.site.client_id}"

    def shared_space(self) -> str:
        if not self.site.shared_space:
            raise ConfigError("No shared space is set.", "Paste a Location with p=<shared space id>.",
                              field="shared_space")
        self.workspaces = list_workspaces(self.client)
        if not self.workspaces:
            raise AuthError(f"Client ID {self.site.client_id!r} has no role in any workspace of shared space "
                            f"{self.site.shared_space}.", ROLE_HINT.format(ws="your workspace"), field="client_id")
        return f"Shared space {self.site.shared_space}: {len(self.workspaces)} workspace(s) available"

    def find_workspace(self) -> str:
        ws = self.workspace
        if not ws:
            return f"⚠ No workspace chosen yet; pick one of: {_listing(self.workspaces)}"
        names = dict(self.workspaces)
        if ws not in names:
            what = f"reading workspace {ws}"
            resp = self.client.request("GET", self.client.space_url(f"/workspaces/{ws}"), what=what)
            if resp.status_code == 403:
                raise AuthError(f"Client ID {self.site.client_id!r} is not assigned any role in workspace {ws}.",
                                f"Ask the shared space admin to give the API key a role (CI/CD Integration) in "
                                f"workspace {ws}, or pick one of: {_listing(self.workspaces)}.", field="workspace")
            if resp.status_code == 404:
                raise ConfigError(f"workspace {ws} not found in shared space {self.site.shared_space}.",
                                  f"Pick one of: {_listing(self.workspaces)}.", field="workspace")
            names[ws] = str(self.client.check(resp, what).get("name", ""))
        root = resolve.backlog_root(self.client, ws)
        return f"Workspace {ws} {names[ws]!r} (backlog root {root})"

    def role(self) -> str:
        ws = self.workspace
        if not ws:
            return "⚠ Skipped: choose a workspace first"
        what = f"checking permission to create {self.noun}"
        resp = self.client.request("POST", self.client.ws_url(ws, self.noun), json={"data": []}, what=what)
        if resp.status_code == 403:
            raise AuthError(f"Client ID {self.site.client_id!r} is not assigned the CI/CD Integration role in "
                            f"workspace {ws}: it can read but not create {self.noun}.", ROLE_HINT.format(ws=ws),
                            field="client_id")
        if resp.status_code not in (200, 201, 400, 409):
            raise self.client.error(resp, what)
        return f"Client ID may create {self.noun} in workspace {ws}"

    def user(self) -> str:
        login = self.site.user
        if not login:
            return "No user set: items are attributed to the API key"
        ws = self.workspace
        if not ws:
            return "⚠ Skipped: choose a workspace first"
        found = resolve.workspace_user(self.client, ws, login)
        if found is None:
            raise ConfigError(f"user {login!r} is not a member of workspace {ws}.",
                              f"Use the login name or email of a workspace member (Settings › Workspace › Users), "
                              f"e.g. {', '.join(resolve.some_users(self.client, ws))}.", field="user")
        return f"{found.get('name')} ({found.get('full_name') or found.get('email') or 'workspace user'})"

    def settings(self) -> str:
        assert self.connection is not None
        if not self.workspace:
            raise ConfigError("The connection has no workspace.", f"Pick one of: {_listing(self.workspaces)}.",
                              field="workspace")
        target = resolve_target(self.client, self.connection, self.workspace, self.site.user)
        return target.describe()


def test_steps(connector: ConnectorSettings, connection: ConnectionSettings | None, http: HttpFactory) -> list[Step]:
    probe = _Probe(connector, connection, http)
    plan: list[tuple[str, str, Callable[[], str]]] = [
        ("version", "ALM Octane server version", probe.server_version),
        ("auth", "Sign in with the API key", probe.sign_in),
        ("shared_space", "Shared space found", probe.shared_space),
        ("workspace", "Workspace found", probe.find_workspace),
        ("role", "Role allows creating items", probe.role),
        ("user", "User exists", probe.user),
    ]
    if connection is not None:
        plan.append(("connection_settings", "Connection settings", probe.settings))
    return [Step(key, title, probe.guard(fn, last=i == len(plan) - 1)) for i, (key, title, fn) in enumerate(plan)]


def workspaces(connector: ConnectorSettings, http: HttpFactory) -> list[tuple[str, str]]:
    info = site(connector)
    client = OctaneClient(info.server, info.shared_space, info.client_id, info.client_secret, http)
    try:
        if not info.shared_space:
            raise ConfigError("No shared space is set.", "Paste a Location with p=<shared space id>.",
                              field="shared_space")
        return list_workspaces(client)
    finally:
        client.close()
