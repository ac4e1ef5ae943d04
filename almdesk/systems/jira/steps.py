"""Test Connection for Jira: server and version, sign-in, then the connection's project and settings.

The steps run in order after the shared network steps and stop at the first failure. Each failure is
its own message: the wrong deployment, the wrong kind of credential (a Cloud API token sent as a Data
Center PAT), a missing project or issue type, unknown done statuses or transition names, required
fields almdesk would leave empty, and a create screen without Labels.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from almdesk.base.records import Step
from almdesk.base.settings import ConnectionSettings, ConnectorSettings
from almdesk.errors import ConfigError
from almdesk.net.session import HttpFactory
from almdesk.systems.jira import jql
from almdesk.systems.jira.client import JiraClient
from almdesk.systems.jira.fields import AUTH_LABELS, AUTO, CLOUD, JiraTarget, check_auth_kind
from almdesk.systems.jira.resolve import Resolver


class _Checks:
    """State shared by the steps of one Test Connection run."""

    def __init__(self, connector: ConnectorSettings, connection: ConnectionSettings | None,
                 http: HttpFactory) -> None:
        self.connector = connector
        self.connection = connection
        self._http = http
        self._client: JiraClient | None = None
        self._resolver: Resolver | None = None

    @property
    def client(self) -> JiraClient:
        """Made by the first step, so a bad client certificate or session cookie fails that step."""
        if self._client is None:
            self._client = JiraClient(self.connector, self._http)
        return self._client

    @property
    def resolver(self) -> Resolver:
        if self._resolver is None:
            assert self.connection is not None
            self._resolver = Resolver(self.client, JiraTarget.from_connection(self.connection))
        return self._resolver

    def server(self) -> str:
        info = self.client.server_info()
        configured = self.client.configured
        if configured != AUTO and configured != info.deployment:
            raise ConfigError(f"The server is {info.label}, but Deployment is set to {configured}.",
                              f"Set Deployment to {info.deployment} or auto.", field="deployment")
        detail = f"{info.label} ({info.title})"
        their_host = urlsplit(info.base_url).hostname
        if their_host and their_host != urlsplit(self.client.base).hostname:
            return (f"⚠ {detail}; Jira calls itself {info.base_url} — issue links will use "
                    f"{self.client.base}")
        return detail

    def auth(self) -> str:
        deployment = self.client.ensure_deployment()
        auth = self.client.auth_method
        try:
            check_auth_kind(deployment, auth)
        except ConfigError as exc:
            where = "Jira Cloud" if deployment == CLOUD else "Jira Data Center"
            raise ConfigError(f"This server is {where}. {exc.message}", exc.hint, field=exc.field) from None
        me = self.client.myself()
        name = str(me.get("displayName") or me.get("name") or me.get("accountId") or "?")
        ident = str(me.get("emailAddress") or me.get("name") or "")
        user = self.client.user
        if user and auth != "api_token":
            names = {str(me.get(k, "")).lower() for k in ("name", "key", "emailAddress")}
            if user.lower() not in names:
                raise ConfigError(f"The credentials belong to {name} ({ident or 'no username shown'}), not to "
                                  f"{user!r}.", "Correct the user field, or use a token of that user.", field="user")
        if not me.get("active", True):
            raise ConfigError(f"The account {name} is deactivated in Jira.", "Ask a Jira admin to reactivate it, or "
                              "use another account.", field="user")
        return f"Signed in as {name}" + (f" ({ident})" if ident and ident != name else "") + \
            f" with {AUTH_LABELS.get(auth, auth)}"

    def projects(self) -> str:
        projects = self.client.projects()
        if not projects:
            return "⚠ Signed in, but this account cannot browse any project"
        keys = ", ".join(str(p.get("key")) for p in projects[:10])
        more = f" and {len(projects) - 10} more" if len(projects) > 10 else ""
        return f"{len(projects)} project(s) visible: {keys}{more}"

    def project(self) -> str:
        project = self.resolver.project()
        lead = (project.get("lead") or {}).get("displayName")
        return f"{project['key']} — {project.get('name', '')}" + (f" (lead {lead})" if lead else "")

    def permissions(self) -> str:
        have = self.resolver.permissions()
        return "Can " + ", ".join(p.lower().replace("_", " ") for p in have)

    def issue_type(self) -> str:
        itype = self.resolver.issue_type()
        parent = self.resolver.parent()
        kind = "sub-task type" if itype.get("subtask") else "issue type"
        return f"{itype['name']} ({kind}, id {itype['id']})" + (f" under {parent}" if parent else "")

    def statuses(self) -> str:
        names = self.resolver.statuses()
        target = self.resolver.target
        if not names:
            return f"⚠ Jira listed no statuses for the issue type; done = {', '.join(target.done_statuses)}"
        others = [n for n in names if not target.is_done(n)]
        return f"Done: {', '.join(target.done_statuses)}; open: {', '.join(others) or '(none)'}"

    def transitions(self) -> str:
        r = self.resolver
        target = r.target
        key, itype = r.project()["key"], r.issue_type()["name"]
        base = [jql.equals("project", key), jql.equals("issuetype", itype)]
        done = target.done_statuses
        checked: list[str] = []
        for name, clause, field in (
                (target.close_transition, jql.one_of("status", done, negate=True), "jira_close_transition"),
                (target.reopen_transition, jql.one_of("status", done), "jira_reopen_transition")):
            sample = self._sample(jql.conjunction([*base, clause], "updated DESC"))
            if sample is None:
                continue
            status = str(((sample.get("fields") or {}).get("status") or {}).get("name", "?"))
            names = [str(t.get("name")) for t in sample.get("transitions") or []]
            if not any(n.lower() == name.lower() for n in names):
                raise ConfigError(f"Transition {name!r} is not available for {sample.get('key')} ({itype}, status "
                                  f"{status}).", f"Transitions from {status}: {', '.join(names) or '(none)'}. "
                                  "Use one of these names (as on the issue's workflow buttons).", field=field)
            checked.append(f"{name!r} from {status} ({sample.get('key')})")
        if not checked:
            return (f"⚠ No {itype} in {key} yet to check {target.close_transition!r} and "
                    f"{target.reopen_transition!r} against; they are checked at the first close")
        missing = "" if len(checked) == 2 else " (no issue in the other state to check the other name)"
        return "Available: " + "; ".join(checked) + missing

    def _sample(self, query: str) -> dict[str, Any] | None:
        for page in self.client.search_pages(query, ["status", "issuetype"], page_size=1, expand="transitions",
                                             limit=1):
            return page[0] if page else None
        return None

    def required_fields(self) -> str:
        names = self.resolver.required_fields()
        extra = list(self.resolver.found.custom)
        return f"Required: {', '.join(names)} — all filled" + (
            f"; custom fields set: {', '.join(extra)}" if extra else "")

    def labels(self) -> str:
        r = self.resolver
        if not r.labels_allowed():
            return "⚠ No label set: every issue of the project is a candidate for matching"
        label = r.target.label
        count = self.client.count(jql.conjunction([jql.equals("project", r.project()["key"]),
                                                   jql.equals("labels", label)]))
        return f"Label {label!r} can be set; {count} issue(s) in {r.project()['key']} carry it"


def test_steps(connector: ConnectorSettings, connection: ConnectionSettings | None, http: HttpFactory) -> list[Step]:
    checks = _Checks(connector, connection, http)
    steps = [Step("jira-server", "Jira server and version", checks.server),
             Step("jira-auth", "Sign in", checks.auth)]
    if connection is None:
        steps.append(Step("jira-projects", "Projects visible", checks.projects))
        return steps
    return [*steps,
            Step("jira-project", "Project", checks.project),
            Step("jira-permissions", "Project permissions", checks.permissions),
            Step("jira-issue-type", "Issue type", checks.issue_type),
            Step("jira-statuses", "Done statuses", checks.statuses),
            Step("jira-transitions", "Close and reopen transitions", checks.transitions),
            Step("jira-fields", "Required fields covered", checks.required_fields),
            Step("jira-labels", "Label allowed", checks.labels)]
