"""Jira connector and connection fields (sdetools names), and the connector's cross-field checks.

The server URL is cut back to the site (people paste board or issue addresses); ``*.atlassian.net``
means Cloud. The auth kind must suit the deployment: Cloud takes an e-mail + API token, Data Center a
personal access token (Bearer) or a username + password.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from almdesk.base.fields import Field, FieldKind, check_url, split_list
from almdesk.base.settings import CLIENT_KEY_SECRET, ConnectionSettings, ConnectorSettings, NetworkSettings
from almdesk.errors import ConfigError
from almdesk.net.clientcert import CERT_FIELD as CLIENT_CERT
from almdesk.net.clientcert import KEY_FIELD as CLIENT_KEY
from almdesk.net.clientcert import check_files

AUTO, CLOUD, DC = "auto", "cloud", "datacenter"
API_TOKEN, PAT, BASIC, COOKIE = "api_token", "pat", "basic", "cookie"
AUTH_LABELS = {API_TOKEN: "e-mail + API token", PAT: "personal access token", BASIC: "username + password",
               COOKIE: "a browser session cookie"}
AUTH_CHOICES = (API_TOKEN, PAT, BASIC, COOKIE)
AUTH_CHOICE_LABELS = ("API token (e-mail + token, Cloud)", "Personal access token (Data Center)",
                      "Username + password (Data Center)", "Browser session cookie (SSO-only sites)")
CLOUD_HOSTS = (".atlassian.net", ".jira.com", ".jira-dev.com")
# Where a pasted Data Center browser address stops being the site's base URL (Cloud has no context path).
_APP_PATHS = re.compile(r"/(browse|projects|secure|issues|dashboards?|plugins/servlet|rest|login\.jsp|servicedesk)"
                        r"(/|$)", re.IGNORECASE)

CONNECTOR_FIELDS: tuple[Field, ...] = (
    Field("url", "Server URL", FieldKind.URL, required=True, placeholder="https://your-domain.atlassian.net",
          help="Your Jira site: https://<site>.atlassian.net for Cloud, or the Data Center address with any "
               "context path (https://jira.example.com/jira). A pasted board or issue address is cut back to it."),
    Field("deployment", "Deployment", FieldKind.CHOICE, default=AUTO, choices=(AUTO, CLOUD, DC),
          choice_labels=("Detect from the server", "Jira Cloud", "Jira Data Center / Server"),
          help="auto: read it from the server (/rest/api/2/serverInfo). cloud: Jira Cloud (REST v3). "
               "datacenter: Jira Data Center or Server (REST v2)."),
    Field("auth_method", "Authentication", FieldKind.CHOICE, default=API_TOKEN, choices=AUTH_CHOICES,
          choice_labels=AUTH_CHOICE_LABELS,
          help="api_token: Jira Cloud, your Atlassian account e-mail + an API token. pat: Data Center personal "
               "access token (sent as Bearer). basic: Data Center username + password. cookie: for a site that "
               "signs in only through SSO in the browser: the session cookie of a signed-in browser."),
    Field("user", "E-mail or username", FieldKind.TEXT, placeholder="name@example.com",
          help="Cloud: the e-mail of the Atlassian account the API token belongs to. Data Center: the username "
               "(optional with a personal access token; when set, Test Connection checks the token is theirs)."),
    Field("token", "API token, PAT, password or cookie", FieldKind.SECRET, required=True,
          help="Cloud: an API token from id.atlassian.com › Security › API tokens. Data Center: a personal access "
               "token (Profile › Personal Access Tokens) or the user's password. Browser session cookie: the "
               "Cookie header of a Jira request in the browser's developer tools (JSESSIONID=…; "
               "seraph.rememberme.cookie=…), or the JSESSIONID value alone. Stored in the system keyring."),
    Field(CLIENT_CERT, "Client certificate (Data Center)", FieldKind.TEXT, default="",
          placeholder="/path/to/client.pem",
          help="For a Data Center site that requires a client certificate (mutual TLS): the PEM file of your "
               "certificate (it may hold the private key too). Empty: none."),
    Field(CLIENT_KEY, "Client key (Data Center)", FieldKind.TEXT, default="", placeholder="/path/to/client.key",
          help="The PEM file of the client certificate's private key; empty when the certificate file holds it."),
    Field(CLIENT_KEY_SECRET, "Client key passphrase", FieldKind.SECRET,
          help="The passphrase of an encrypted client key; empty for a key without one. Stored in the system "
               "keyring."),
)

CONNECTION_FIELDS: tuple[Field, ...] = (
    Field("alm_project", "Project key", FieldKind.TEXT, required=True, placeholder="DEMO", section="Target",
          help="Key of the Jira project issues go to (case-sensitive, e.g. DEMO)."),
    Field("jira_issue_type", "Issue type", FieldKind.TEXT, default="Bug", section="Target",
          help="Name of the issue type to create (Bug, Task, Story, or Sub-task with a parent issue)."),
    Field("alm_parent_issue", "Parent issue", FieldKind.TEXT, default="", section="Target", placeholder="DEMO-12",
          help="Key of the parent issue; needed when the issue type is a sub-task type. When set, only its "
               "sub-tasks are matched."),
    Field("alm_issue_label", "Label", FieldKind.TEXT, default="SD-Elements", section="Target",
          allow_empty=True, placeholder="empty: no label",
          help="Label put on every issue almdesk creates and used to find them again; no spaces. Empty: no label "
               "(then every issue of the project is a candidate)."),
    Field("alm_project_version", "Fix version", FieldKind.TEXT, default="", section="Target",
          help="Version name set as Fix version on new issues (must exist in the project); empty: none."),
    Field("alm_custom_fields", "Custom fields", FieldKind.TEXT, default="", section="Target",
          placeholder='{"Security Severity": "High"}',
          help="JSON object of field name (as shown in Jira) to value, set on new issues; use it for fields the "
               "create screen requires."),
    Field("jira_done_statuses", "Done statuses", FieldKind.MULTI_CHOICE, default=["Resolved", "Closed"],
          section="Status", help="Comma-separated Jira statuses that mean the task is done."),
    Field("jira_close_transition", "Close transition", FieldKind.TEXT, default="Close Issue", section="Status",
          help="Name of the workflow transition that closes an issue (as on the issue's buttons)."),
    Field("jira_reopen_transition", "Reopen transition", FieldKind.TEXT, default="Reopen Issue", section="Status",
          help="Name of the workflow transition that reopens a closed issue."),
)


def normalize_url(url: str) -> str:
    """Cut a pasted address (board, issue, dashboard, REST) back to the site URL; keep a context path."""
    parts = urlsplit(url.strip())
    path = "" if is_cloud_host(url) else parts.path
    m = _APP_PATHS.search(path)
    if m:
        path = path[:m.start()]
    return urlunsplit((parts.scheme, parts.netloc, path.rstrip("/"), "", ""))


def is_cloud_host(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host.endswith(CLOUD_HOSTS)


def check_connector(params: dict[str, Any]) -> dict[str, Any]:
    """Normalise the URL, derive the deployment from an Atlassian host, and check auth suits deployment."""
    out = dict(params)
    url_field = CONNECTOR_FIELDS[0]
    out["url"] = normalize_url(check_url(str(out.get("url") or ""), url_field))
    deployment = out.get("deployment") or AUTO
    auth = out.get("auth_method") or API_TOKEN
    user = str(out.get("user") or "").strip()
    out["user"] = user
    if deployment == AUTO and is_cloud_host(out["url"]):
        deployment = CLOUD
    if deployment == DC and is_cloud_host(out["url"]):
        raise ConfigError(f"{urlsplit(out['url']).hostname} is a Jira Cloud site, but Deployment is datacenter.",
                          "Set Deployment to cloud (or auto) and use your e-mail + an API token.", field="deployment")
    out["deployment"] = deployment
    out["auth_method"] = auth
    check_auth_kind(deployment, auth)
    check_client_cert(out, deployment)
    if auth in (API_TOKEN, BASIC) and not user:
        what = "the e-mail of your Atlassian account" if auth == API_TOKEN else "the Jira username"
        raise ConfigError(f"E-mail or username is required with {AUTH_LABELS[auth]} authentication.",
                          f"Enter {what}.", field="user")
    if auth == API_TOKEN and "@" not in user:
        raise ConfigError(f"{user!r} is not an e-mail address; Jira Cloud API tokens are used with the e-mail of the "
                          "Atlassian account.", "Enter the account's e-mail, e.g. name@example.com.", field="user")
    return out


def check_client_cert(params: dict[str, Any], deployment: str) -> None:
    """The client certificate files exist and are PEM (the passphrase is checked when it is used)."""
    cert, key = (str(params.pop(n, None) or "").strip() for n in (CLIENT_CERT, CLIENT_KEY))
    params.update({n: v for n, v in ((CLIENT_CERT, cert), (CLIENT_KEY, key)) if v})  # empty: not stored
    if not cert:
        if key:
            raise ConfigError("Client key is set without a Client certificate.",
                              "Choose the certificate's PEM file too, or clear Client key.", field=CLIENT_CERT)
        return
    if deployment == CLOUD:
        raise ConfigError("Jira Cloud does not use client certificates.",
                          "Clear Client certificate and Client key; they are for Data Center sites behind mutual "
                          "TLS.", field=CLIENT_CERT)
    check_files(NetworkSettings(client_cert=cert, client_key=key), need_passphrase=False)


def check_auth_kind(deployment: str, auth: str) -> None:
    """ConfigError when the auth kind cannot work with the deployment."""
    if deployment == CLOUD and auth == PAT:
        raise ConfigError("Jira Cloud does not accept personal access tokens (those are for Data Center).",
                          "Choose api_token and enter your Atlassian e-mail with an API token from "
                          "id.atlassian.com › Security › API tokens.", field="auth_method")
    if deployment == CLOUD and auth == BASIC:
        raise ConfigError("Jira Cloud no longer accepts passwords over the API.",
                          "Choose api_token and use an API token from id.atlassian.com › Security › API tokens "
                          "instead of the password.", field="auth_method")
    if deployment == DC and auth == API_TOKEN:
        raise ConfigError("Atlassian API tokens only work with Jira Cloud, not with Jira Data Center.",
                          "Choose pat and create a personal access token in Jira (Profile › Personal Access "
                          "Tokens), or choose basic with the username and password.", field="auth_method")


@dataclass
class JiraTarget:
    """A connection's Jira params, parsed with defaults (ad-hoc connections carry only defaults)."""

    project: str
    issue_type: str
    parent: str
    label: str
    version: str
    custom: dict[str, Any]
    done_statuses: list[str]
    close_transition: str
    reopen_transition: str

    @classmethod
    def from_connection(cls, connection: ConnectionSettings, workspace: str = "") -> JiraTarget:
        p = connection.params

        def text(name: str, default: str = "") -> str:
            value = p.get(name)
            return default if value is None else str(value).strip()

        project = (workspace or text("alm_project")).strip()
        if not project:
            raise ConfigError("No Jira project key is set.", "Set Project key (alm_project) on the connection, or pass "
                              "the project key as the workspace.", field="alm_project")
        done_raw = p.get("jira_done_statuses")
        done = ([str(x).strip() for x in done_raw if str(x).strip()] if isinstance(done_raw, list | tuple)
                else split_list(str(done_raw)) if done_raw else ["Resolved", "Closed"])
        label = text("alm_issue_label", "SD-Elements")
        return cls(project=project, issue_type=text("jira_issue_type", "Bug") or "Bug",
                   parent=text("alm_parent_issue"), label=label, version=text("alm_project_version"),
                   custom=parse_custom_fields(text("alm_custom_fields")), done_statuses=done,
                   close_transition=text("jira_close_transition", "Close Issue") or "Close Issue",
                   reopen_transition=text("jira_reopen_transition", "Reopen Issue") or "Reopen Issue")

    def is_done(self, status: str) -> bool:
        low = status.lower()
        return any(low == d.lower() for d in self.done_statuses)


def parse_custom_fields(text: str) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise ConfigError("Custom fields is not a JSON object.",
                          'Write it like {"Security Severity": "High", "Team": "Blue"}.', field="alm_custom_fields")
    return value


def deployment_of(connector: ConnectorSettings) -> str:
    return str(connector.params.get("deployment") or AUTO)


def auth_of(connector: ConnectorSettings) -> str:
    return str(connector.params.get("auth_method") or API_TOKEN)
