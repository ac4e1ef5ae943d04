"""Test Connection for Rally: reachable → credentials → (workspaces) → workspace → project → permission →
card type and statuses → parent.

The steps share one :class:`_Probe` so later steps reuse what earlier ones resolved; each step
returns a one-line detail or raises a :class:`~almdesk.errors.UserFacingError` saying what failed
and how to fix it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from almdesk.base.records import Step
from almdesk.base.settings import ConnectionSettings, ConnectorSettings, is_loopback
from almdesk.errors import AuthError, ConfigError, RemoteError
from almdesk.net.bodies import check_sign_in_page
from almdesk.net.session import HttpFactory
from almdesk.systems.rally.client import RallyApiError, RallyClient, transport
from almdesk.systems.rally.fields import (
    API_PATH,
    KEYS_PAGE,
    card_type,
    done_statuses,
    new_status,
    normalize_server,
    required_text,
)
from almdesk.systems.rally.resolve import Me, Named, Resolver, listing
from almdesk.systems.rally.writes import priority_map


class _Probe:
    def __init__(self, connector: ConnectorSettings, connection: ConnectionSettings | None,
                 http: HttpFactory) -> None:
        self.connector = connector
        self.connection = connection
        self.http = http
        self.server = normalize_server(str(connector.params.get("alm_server") or ""))
        self._client: RallyClient | None = None
        self.me: Me | None = None
        self.workspace: Named | None = None
        self.project: Named | None = None

    @property
    def client(self) -> RallyClient:
        if self._client is None:
            self._client = RallyClient(self.connector, self.http)
        return self._client

    @property
    def params(self) -> dict[str, Any]:
        assert self.connection is not None
        return self.connection.params

    def finish(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    # --- steps --------------------------------------------------------------------------------
    def reachable(self) -> str:
        session = self.http.session(origin=self.server)
        try:
            response = transport(session, "GET", f"{self.server}{API_PATH}/security/authorize",
                                 what=f"Rally at {self.server}", allow_redirects=False)
        finally:
            session.close()
        code = response.status_code
        check_sign_in_page(response, f"{self.server}", "alm_server")
        try:
            body = response.json()
            envelope = isinstance(body, dict) and any(k.endswith("Result") for k in body)
        except (ValueError, RecursionError):  # RecursionError: JSON nested too deep
            envelope = False
        if code == 404 or (code == 200 and not envelope):
            raise RemoteError(f"{self.server} answered HTTP {code} at {API_PATH}: it is not a Rally server, or the "
                              "address has an extra path.",
                              "Use the address of Rally itself, such as https://rally1.rallydev.com.",
                              field="alm_server")
        if code >= 500:
            raise RemoteError(f"{self.server} failed at {API_PATH} (HTTP {code}).",
                              "Rally may be down or a proxy is failing; try again later or check the proxy "
                              "settings.", field="alm_server")
        answer = {200: "answered", 401: "asks for credentials", 403: "asks for credentials"}.get(
            code, "redirects to sign-in" if 300 <= code < 400 else "answered")
        note = ""
        host = urlsplit(self.server).hostname
        if self.server.startswith("http://") and not is_loopback(host):
            note = " — plain http: credentials travel unencrypted, use https://"
        return f"Rally web services v2.0 {answer} (HTTP {code}){note}"

    def credentials(self) -> str:
        client = self.client
        detail = ""
        if client.auth_method == "basic":
            client.security_token()
            detail = "; security token issued for writes"
        self.me = me = Resolver(client).me()
        wanted = str(self.connector.params.get("alm_user") or "").strip()
        if wanted and client.auth_method == "api_key" and wanted.lower() != me.username.lower():
            raise ConfigError(f"The API key belongs to {me.username}, not to {wanted}.",
                              f"Clear the User field, or paste an API key of {wanted}.", field="alm_user")
        admin = " (subscription admin)" if me.subscription_admin else ""
        return f"Signed in as {me.display} <{me.username}>{admin}{detail}"

    def subscription(self) -> str:
        name, spaces = Resolver(self.client).workspaces()
        open_names = [str(w.get("Name")) for w in spaces if w.get("State") != "Closed"]
        if not open_names:
            raise AuthError(f"This user cannot open any workspace of subscription {name!r}.",
                            "Ask a Rally subscription admin to add the user to a workspace.",
                            field=self.client.secret_field)
        return f"Subscription {name}: {len(open_names)} open workspace(s): {listing(open_names)}"

    def find_workspace(self) -> str:
        name = required_text(self.params, "rally_workspace", "Workspace",
                             "Enter the Rally workspace name, exactly as Rally shows it.")
        self.workspace = Resolver(self.client).workspace(name)
        return f"{self.workspace.name} (ObjectID {self.workspace.oid})"

    def find_project(self) -> str:
        assert self.workspace is not None
        name = required_text(self.params, "alm_project", "Project", "Enter the Rally project name.")
        self.project = Resolver(self.client).project(self.workspace, name)
        return f"{self.project.name} (ObjectID {self.project.oid}) in {self.workspace.name}"

    def permission(self) -> str:
        assert self.workspace is not None and self.project is not None and self.me is not None
        try:
            role = Resolver(self.client).role(self.me, self.project, self.workspace)
        except (RallyApiError, AuthError) as exc:  # some subscriptions hide permissions from non-admins
            return f"permissions could not be read ({exc.message[:120]}); writes will be tried"
        if role == "Viewer":
            raise AuthError(f"{self.me.display} is only a Viewer of project {self.project.name!r}, so almdesk cannot "
                            "create or update items there.",
                            "Ask a Rally workspace or project admin to make this user an Editor of the project, "
                            "or pick another project.", field="alm_project")
        if role is None:
            return "no project permission listed (workspace admins have none); writes will be tried"
        return f"{role} of {self.project.name}"

    def write_access(self) -> str:
        """Prove the credentials may write, leaving nothing behind: create a Defect without its required
        Name. A key that may write gets Rally's validation error (nothing is made); a read-only API key
        gets "Not authorized". Should a server ever accept it, the item is deleted at once."""
        assert self.workspace is not None and self.project is not None
        try:
            made = self.client.create("Defect", {"Project": self.project.ref}, fetch="ObjectID",
                                      workspace=self.workspace.ref, what="a write check (nothing is kept)")
        except RallyApiError as exc:
            if any("should not be null" in e or "Validation error" in e for e in exc.errors):
                return "writes allowed (Rally validated a write check; nothing was created)"
            raise
        except AuthError as exc:
            if "read-only" in exc.message.lower() or "read only" in exc.message.lower():
                raise AuthError("The API key is read-only: Rally lets it read but refuses every write.",
                                f"Create a full-access API key in Rally ({KEYS_PAGE}) and paste it into API key.",
                                field=self.client.secret_field) from None
            raise
        oid = str(made.get("ObjectID") or "")
        if oid:
            self.client.call("DELETE", f"defect/{oid}", what="removing the write check", write=True)
        return "writes allowed (the write check's item was deleted)"

    def settings(self) -> str:
        assert self.workspace is not None
        card = card_type(self.params)
        new, done = new_status(self.params), done_statuses(self.params)
        resolver = Resolver(self.client)
        allowed = resolver.check_statuses(self.workspace, card, new, done)
        parts = [f"{card.label}: {card.status_field} {new} → done {', '.join(done)}"]
        if not allowed:
            parts.append(f"(Rally lists no allowed values for {card.status_field}; not checked)")
        if card.name == "Defect" and str(self.params.get("alm_priority_map") or "").strip():
            priorities = resolver.allowed_values(self.workspace, "Defect", "Priority")
            bad = sorted({p for p in priority_map(self.params).values() if priorities and p not in priorities})
            if bad:
                raise ConfigError(f"Priority map names {', '.join(map(repr, bad))}, which Rally's Defect Priority "
                                  "does not have.", f"Use: {', '.join(priorities)}.", field="alm_priority_map")
        label = str(self.params.get("alm_issue_label") or "").strip()
        if label:
            found = resolver.tag(self.workspace, label)
            parts.append(f"tag {label!r} {'found' if found else 'will be created on the first sync'}")
        return "; ".join(parts)

    def parent(self) -> str:
        assert self.workspace is not None
        card = card_type(self.params)
        fid = str(self.params.get("alm_parent_issue") or "").strip()
        if not fid:
            raise ConfigError("Card type Task needs a parent user story.",
                              "Enter the parent story's FormattedID (for example US12) in Parent.",
                              field="alm_parent_issue")
        found = Resolver(self.client).parent(self.workspace, fid, card)
        project = (found.get("Project") or {}).get("_refObjectName") or ""
        where = f" in project {project}" if project else ""
        return f"{found.get('FormattedID')}: {found.get('Name')}{where}"


def _guarded(probe: _Probe, run: Callable[[], str], last: bool) -> Callable[[], str]:
    """Close the probe's session when the list ends: after the last step, or at the first failure."""

    def step() -> str:
        try:
            detail = run()
        except BaseException:
            probe.finish()
            raise
        if last:
            probe.finish()
        return detail

    return step


def test_steps(connector: ConnectorSettings, connection: ConnectionSettings | None, http: HttpFactory) -> list[Step]:
    probe = _Probe(connector, connection, http)
    basic = str(connector.params.get("auth_method") or "api_key") == "basic"
    steps = [
        Step("rally_http", "Rally API reachable", probe.reachable),
        Step("rally_auth", "User name and password accepted" if basic else "API key valid", probe.credentials),
    ]
    if connection is None:
        steps.append(Step("rally_subscription", "Workspaces available", probe.subscription))
    else:
        steps += [
            Step("rally_workspace", "Workspace found", probe.find_workspace),
            Step("rally_project", "Project found", probe.find_project),
            Step("rally_permission", "Permission to create items", probe.permission),
            Step("rally_write", "Writes allowed (not a read-only key)", probe.write_access),
            Step("rally_settings", "Card type and statuses allowed", probe.settings),
        ]
        card = str(connection.params.get("rally_card_type") or "Story")
        if card == "Task" or str(connection.params.get("alm_parent_issue") or "").strip():
            steps.append(Step("rally_parent", "Parent story found", probe.parent))
    return [Step(s.key, s.title, _guarded(probe, s.run, i == len(steps) - 1)) for i, s in enumerate(steps)]
