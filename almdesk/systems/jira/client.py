"""A small Jira REST client over almdesk's network layer, for Cloud (v3) and Data Center (v2).

The deployment comes from the connector or, on ``auto``, from the anonymous ``serverInfo``
(``deploymentType: Cloud`` or not). Searches page Cloud's way (``/search/jql``, ``nextPageToken``) or
Data Center's (``/search``, ``startAt``/``total``); counts cost one request on both. Retries, including
429/503 with ``Retry-After``, come from the shared session; what is left is explained in :mod:`errors`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import requests
from requests.auth import AuthBase, HTTPBasicAuth

from almdesk.base.settings import ConnectorSettings
from almdesk.base.shapes import listing
from almdesk.errors import ConfigError, RemoteError
from almdesk.jobs.context import JobContext
from almdesk.net.api import ApiClient, Page, cursor_pages, offset_pages
from almdesk.net.session import CrossOriginError, HttpFactory
from almdesk.systems.jira.cookie import expired_answer, session_cookie, session_expired
from almdesk.systems.jira.errors import (
    JiraApiError,
    error_parts,
    explain_401,
    explain_403,
    explain_status,
    flatten,
)
from almdesk.systems.jira.fields import (
    AUTO,
    BASIC,
    CLOUD,
    COOKIE,
    DC,
    PAT,
    auth_of,
    deployment_of,
    is_cloud_host,
    normalize_url,
)

BULK_LIMIT = 50
CLOUD_PAGE = 100  # /search/jql returns at most 100 issues a page once fields beyond id/key are asked for
DC_PAGE = 1000  # Data Center's default jira.search.views.default.max


class _Bearer(AuthBase):
    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request


@dataclass
class ServerInfo:
    deployment: str  # cloud | datacenter
    version: str
    title: str
    base_url: str

    @property
    def label(self) -> str:
        return ("Jira Cloud" if self.deployment == CLOUD else "Jira Data Center") + (
            f" {self.version}" if self.version else "")


class JiraClient:
    """One connector's Jira session. ``deployment`` is known after :meth:`server_info` (or from params)."""

    def __init__(self, connector: ConnectorSettings, http: HttpFactory, ctx: JobContext | None = None) -> None:
        self.connector = connector
        self.base = normalize_url(str(connector.params.get("url") or ""))
        self.auth_method = auth_of(connector)
        self.user = str(connector.params.get("user") or "").strip()
        self._token = connector.secret("token")
        http.add_secrets([self._token])
        self.net = ApiClient(http, self.base, label="Jira", headers={"X-Atlassian-Token": "no-check"},
                             errors=self._error)
        self.session = self.net.session
        self._auth: AuthBase | None = (_Bearer(self._token) if self.auth_method == PAT
                                       else HTTPBasicAuth(self.user, self._token))
        if self.auth_method == COOKIE:  # to this origin only, never through the cookie jar (see cookie.py)
            header, values = session_cookie(self._token)
            http.add_secrets([header, *values])
            self.session.set_credential("Cookie", header)
            self._auth = None
        self.ctx = ctx
        configured = deployment_of(connector)
        self.configured = configured
        self.deployment: str | None = configured if configured != AUTO else None
        self.info: ServerInfo | None = None

    # --- plumbing -------------------------------------------------------------------------
    @property
    def cloud(self) -> bool:
        return self.ensure_deployment() == CLOUD

    @property
    def api(self) -> str:
        return "3" if self.cloud else "2"

    def rest(self, path: str, api: str | None = None) -> str:
        return f"{self.base}/rest/api/{api or self.api}/{path.lstrip('/')}"

    def browse_url(self, key: str) -> str:
        return f"{self.base}/browse/{key}"

    def close(self) -> None:
        self.net.close()

    def request(self, method: str, path: str, *, what: str, expected: Sequence[int] = (200,),
                params: dict[str, Any] | None = None, json: Any = None, api: str | None = None,
                anonymous: bool = False) -> Any:
        """Send, check the status, return the parsed JSON body (None for 204)."""
        if self.ctx is not None:
            self.ctx.check_cancelled()
        response = self.send(method, self.rest(path, api), what=f"Jira ({what})", params=params, json=json,
                             auth=None if anonymous else self._auth)
        return self.check(response, what, expected)

    def send(self, method: str, url: str, *, what: str, **kwargs: Any) -> requests.Response:
        """:func:`~almdesk.net.session.send` on this client's session; with a session cookie a redirect
        to another host (the SSO sign-in) is named as the expired browser session."""
        try:
            return self.net.send(method, url, what=what, **kwargs)
        except CrossOriginError as exc:
            if self.auth_method != COOKIE:
                raise
            raise session_expired(f"Jira redirected to a sign-in on another host instead of answering "
                                  f"({exc.message} The cookie was not sent there)") from None

    def check(self, response: requests.Response, what: str, expected: Sequence[int] = (200,)) -> Any:
        """The JSON body (None for 204 or an empty body) of an expected answer, else the error raised
        (with a session cookie, an answer that shows the browser session expired first)."""
        expired = expired_answer(response) if self.auth_method == COOKIE else None
        if expired is not None:
            raise expired
        return self.net.check(response, what, expected)

    def _error(self, response: requests.Response, what: str) -> Exception:
        status = response.status_code
        if status == 401:
            return explain_401(response, self._assumed_deployment(), self.auth_method, self._token, self.user)
        if status == 403:
            return explain_403(response, what)
        if "html" in response.headers.get("Content-Type", "").lower() and status in (404, 405):
            return RemoteError(f"{self.base} answered {what} with a web page (HTTP {status}), not Jira's REST API.",
                               "Check the server URL; for Data Center include the context path, e.g. "
                               "https://jira.example.com/jira.", field="url")
        return explain_status(response, what)

    # --- server and user ------------------------------------------------------------------
    def server_info(self) -> ServerInfo:
        """Anonymous ``/rest/api/2/serverInfo`` (served by Cloud and Data Center alike)."""
        url = f"{self.base}/rest/api/2/serverInfo"
        response = self.send("GET", url, what=f"Jira at {self.base}")
        if response.status_code in (401, 403) and self._auth is not None:  # a site closed to anonymous users
            response = self.send("GET", url, what=f"Jira at {self.base}", auth=self._auth)  # ask again signed in
        if response.status_code == 404:
            raise RemoteError(f"There is no Jira REST API at {url} (HTTP 404).",
                              "Check the server URL: Cloud is https://<site>.atlassian.net; Data Center needs its "
                              "context path if it has one (https://jira.example.com/jira).", field="url")
        body = self.check(response, "the server information request")
        if not isinstance(body, dict) or ("deploymentType" not in body and "version" not in body):
            raise RemoteError(f"{self.base} answered, but not like Jira (no serverInfo).",
                              "Check the server URL points at Jira itself.", field="url")
        detected = CLOUD if str(body.get("deploymentType", "")).lower() == "cloud" else DC
        self.info = ServerInfo(detected, str(body.get("version") or ""), str(body.get("serverTitle") or "Jira"),
                               str(body.get("baseUrl") or self.base))
        if self.deployment is None:
            self.deployment = detected
        return self.info

    def _assumed_deployment(self) -> str:
        """The deployment, or before it is known the likeliest one (for explaining a refusal)."""
        if self.deployment:
            return self.deployment
        if is_cloud_host(self.base):
            return CLOUD
        return DC if self.auth_method in (PAT, BASIC) else CLOUD

    def ensure_deployment(self) -> str:
        if self.deployment is None:
            self.server_info()
        assert self.deployment is not None
        return self.deployment

    def myself(self) -> dict[str, Any]:
        me: dict[str, Any] = self.request("GET", "myself", what="the signed-in user")
        return me

    # --- projects and metadata -------------------------------------------------------------
    def project(self, key: str) -> dict[str, Any] | None:
        try:
            project: dict[str, Any] = self.request("GET", f"project/{key}", what=f"project {key}")
        except JiraApiError as exc:
            if exc.status == 404:
                return None
            raise
        return project

    def projects(self) -> list[dict[str, Any]]:
        """Projects the account can browse (first 100 on Cloud: enough to suggest keys)."""
        if self.cloud:
            page = self.request("GET", "project/search", what="the project list", params={"maxResults": 100})
            return list(page.get("values") or [])
        return list(self.request("GET", "project", what="the project list") or [])

    def create_issue_types(self, project: str) -> list[dict[str, Any]]:
        """Issue types the account may create in ``project`` (createmeta; Cloud and DC shapes)."""
        return self._createmeta(f"issue/createmeta/{project}/issuetypes", "issueTypes", f"issue types of {project}")

    def create_fields(self, project: str, issuetype_id: str) -> list[dict[str, Any]]:
        return self._createmeta(f"issue/createmeta/{project}/issuetypes/{issuetype_id}", "fields",
                                f"create-screen fields of {project}")

    def _createmeta(self, path: str, key: str, what: str) -> list[dict[str, Any]]:
        """Every entry of a paged createmeta list (``key`` on older servers, ``values`` on Cloud and DC 9+)."""
        def fetch(start: int, size: int) -> Page[dict[str, Any]]:
            page = self.request("GET", path, what=what, params={"startAt": start, "maxResults": size})
            return Page(list(page.get(key) or page.get("values") or []), int(page.get("total") or 0))

        return [item for page in offset_pages(fetch, 100) for item in page]

    def project_statuses(self, project: str) -> list[dict[str, Any]]:
        return list(self.request("GET", f"project/{project}/statuses", what=f"statuses of {project}") or [])

    def versions(self, project: str) -> list[dict[str, Any]]:
        return list(self.request("GET", f"project/{project}/versions", what=f"versions of {project}") or [])

    def priorities(self, project_id: str = "") -> list[dict[str, Any]]:
        """The priorities (of ``project_id``'s scheme where given). Cloud pages ``priority/search``;
        its plain ``GET priority`` is deprecated. Data Center has only ``GET priority``."""
        if not self.cloud:
            return list(self.request("GET", "priority", what="the priority list") or [])
        def fetch(start: int, size: int) -> Page[dict[str, Any]]:
            params: dict[str, Any] = {"startAt": start, "maxResults": size}
            if project_id:
                params["projectId"] = project_id
            page = self.request("GET", "priority/search", what="the priority list", params=params)
            return Page(list(page.get("values") or []), last=bool(page.get("isLast", True)))

        return [item for page in offset_pages(fetch, 50) for item in page]

    def my_permissions(self, project: str, permissions: Sequence[str]) -> dict[str, bool]:
        body = self.request("GET", "mypermissions", what=f"your permissions in {project}",
                            params={"projectKey": project, "permissions": ",".join(permissions)})
        perms = body.get("permissions") or {}
        return {p: bool((perms.get(p) or {}).get("havePermission")) for p in permissions}

    def issue(self, key: str, fields: Sequence[str] = ("summary", "status", "updated", "issuetype"), *,
              expand: str = "") -> dict[str, Any] | None:
        """One issue (None when Jira says 404); ``expand="transitions.fields"`` adds its transitions."""
        params = {"fields": ",".join(fields)}
        if expand:
            params["expand"] = expand
        try:
            issue: dict[str, Any] = self.request("GET", f"issue/{key}", what=f"issue {key}", params=params)
        except JiraApiError as exc:
            if exc.status == 404:
                return None
            raise
        return issue

    # --- search and count -----------------------------------------------------------------
    @property
    def page_size(self) -> int:
        return CLOUD_PAGE if self.cloud else DC_PAGE

    def search_pages(self, jql: str, fields: Sequence[str], *, page_size: int | None = None, expand: str = "",
                     limit: int | None = None, reconcile: Sequence[int] = ()) -> Iterator[list[dict[str, Any]]]:
        """Pages of issues matching ``jql``: Cloud token paging or Data Center startAt paging.

        Searches are GETs, so the session retries them after 5xx, 429 and dropped connections.
        ``reconcile`` (Cloud) names issue ids just written, for read-after-write consistency.
        """
        size = page_size or self.page_size
        seen = 0

        def params() -> dict[str, Any]:
            wanted = size if limit is None else max(1, min(size, limit - seen))
            out: dict[str, Any] = {"jql": jql, "fields": ",".join(fields), "maxResults": wanted}
            if expand:
                out["expand"] = expand
            return out

        def issues_of(page: Any) -> tuple[list[dict[str, Any]], bool]:
            """The page's issues, and whether the search ends with them (none, or ``limit`` reached)."""
            nonlocal seen
            issues = listing(page, "issues", server="Jira", what="issues", where=f"the page after {seen} issue(s)")
            seen += len(issues)
            return issues, not issues or (limit is not None and seen >= limit)

        def cloud_page(token: str | None) -> Page[dict[str, Any]]:
            query = params()
            if reconcile:
                query["reconcileIssues"] = [int(i) for i in reconcile][:50]
            if token:
                query["nextPageToken"] = token
            page = self.request("GET", "search/jql", what="the issue search", params=query)
            issues, done = issues_of(page)
            following = page.get("nextPageToken")
            return Page(issues, last=done or bool(page.get("isLast", not following)),
                        next=str(following) if following else None)

        def dc_page(start: int, _size: int) -> Page[dict[str, Any]]:
            query = {**params(), "startAt": start}
            page = self.request("GET", "search", what="the issue search", params=query)
            issues, done = issues_of(page)
            return Page(issues, int(page.get("total") or 0), last=done)

        yield from cursor_pages(cloud_page) if self.cloud else offset_pages(dc_page, size)

    def search(self, jql: str, fields: Sequence[str], **kwargs: Any) -> Iterator[dict[str, Any]]:
        for page in self.search_pages(jql, fields, **kwargs):
            yield from page

    def count(self, jql: str) -> int:
        """Matching issues in one request: Cloud approximate-count, Data Center ``total`` of a 0-size page."""
        if self.cloud:
            body = self.request("POST", "search/approximate-count", what="the issue count", json={"jql": jql})
            return int(body.get("count") or 0)
        page = self.request("GET", "search", what="the issue count",
                            params={"jql": jql, "maxResults": 0, "fields": "id"})
        return int(page.get("total") or 0)

    def search_page_at(self, jql: str, fields: Sequence[str], offset: int, limit: int) -> list[dict[str, Any]]:
        """Issues ``offset``…``offset+limit`` of a search (Cloud walks its tokens to get there)."""
        if not self.cloud:
            page = self.request("GET", "search", what="the issue search",
                                params={"jql": jql, "startAt": offset, "maxResults": limit, "fields": ",".join(fields)})
            return list(page.get("issues") or [])
        out: list[dict[str, Any]] = []
        skipped = 0
        for page in self.search_pages(jql, fields, page_size=min(CLOUD_PAGE, max(limit, 1))):
            for issue in page:
                if skipped < offset:
                    skipped += 1
                elif len(out) < limit:
                    out.append(issue)
            if len(out) >= limit:
                break
        return out

    # --- writes ---------------------------------------------------------------------------
    def create_issue(self, fields: dict[str, Any]) -> dict[str, Any]:
        created: dict[str, Any] = self.request("POST", "issue", what="the new issue", expected=(201,),
                                               json={"fields": fields})
        return created

    def create_issues(self, issues: Sequence[dict[str, Any]]) -> list[dict[str, Any] | JiraApiError]:
        """Bulk create (≤ 50): per input, the created ``{id,key,self}`` or the error Jira gave for it."""
        if len(issues) > BULK_LIMIT:
            raise ValueError(f"at most {BULK_LIMIT} issues per bulk create")
        if not issues:
            return []
        response = self.send("POST", self.rest("issue/bulk"), what="Jira (the bulk create)", auth=self._auth,
                             json={"issueUpdates": [{"fields": f} for f in issues]})
        if response.status_code not in (201, 400):
            self.check(response, "the bulk create", (201,))
        body = self.net.decode(response)
        if not isinstance(body, dict) or ("issues" not in body and "errors" not in body) or not isinstance(
                body.get("errors", []), list):
            self.check(response, "the bulk create", (201,))
            raise RemoteError("Jira answered the bulk create without a result list.", "Try again.")
        failures: dict[int, JiraApiError] = {}
        for err in body.get("errors") or []:
            messages, errors = error_parts(err.get("elementErrors") or {})
            index = int(err.get("failedElementNumber", -1))
            failures[index] = JiraApiError(f"Jira did not create the issue: {flatten(messages, errors)}.",
                                           _fix_hint(errors), status=int(err.get("status") or 400),
                                           messages=messages, errors=errors, field=connection_field_for(errors))
        created = iter(body.get("issues") or [])
        out: list[dict[str, Any] | JiraApiError] = []
        for n in range(len(issues)):
            if n in failures:
                out.append(failures[n])
                continue
            item = next(created, None)
            out.append(item if item is not None else JiraApiError("Jira did not report this issue as created.",
                                                                  "Run the sync again; it will look the issue up."))
        return out

    def transitions(self, key: str) -> list[dict[str, Any]]:
        body = self.request("GET", f"issue/{key}/transitions", what=f"transitions of {key}",
                            params={"expand": "transitions.fields"})
        return list(body.get("transitions") or [])

    def transition(self, key: str, transition: dict[str, Any]) -> None:
        """Run a transition (as listed by :meth:`transitions`), filling fields its screen requires."""
        fields: dict[str, Any] = {}
        for fid, meta in (transition.get("fields") or {}).items():
            if not meta.get("required") or meta.get("hasDefaultValue"):
                continue
            allowed = meta.get("allowedValues") or []
            if fid == "resolution":
                names = [str(a.get("name")) for a in allowed]
                pick = next((n for n in ("Done", "Fixed") if n in names), names[0] if names else "Done")
                fields[fid] = {"name": pick}
            elif allowed:
                first = allowed[0]
                fields[fid] = {"id": first["id"]} if "id" in first else first
        payload: dict[str, Any] = {"transition": {"id": str(transition["id"])}}
        if fields:
            payload["fields"] = fields
        self.request("POST", f"issue/{key}/transitions", what=f"the transition of {key} through '{transition.get('name')}'",
                     expected=(204,), json=payload)


def connection_field_for(errors: dict[str, str]) -> str | None:
    if "labels" in errors:
        return "alm_issue_label"
    if any(k.startswith("customfield_") for k in errors):
        return "alm_custom_fields"
    if "issuetype" in errors:
        return "jira_issue_type"
    if "parent" in errors:
        return "alm_parent_issue"
    if "fixVersions" in errors:
        return "alm_project_version"
    return None


def _fix_hint(errors: dict[str, str]) -> str:
    if any(k.startswith("customfield_") for k in errors) or any("is required" in v for v in errors.values()):
        return "Fill the field through the connection's Custom fields, or ask a Jira admin to make it optional."
    if "labels" in errors:
        return "Jira labels cannot contain spaces; fix the connection's Label or the task's tags."
    return "Fix the value named above in the connection settings."


def bad_name(kind: str, value: str, valid: Sequence[str], field: str, where: str = "") -> ConfigError:
    """ConfigError for a name Jira does not know, listing the valid ones."""
    shown = ", ".join(valid) if valid else "(none)"
    suffix = f" in {where}" if where else ""
    return ConfigError(f"{kind} {value!r} does not exist{suffix}.", f"Valid {kind.lower()}s: {shown}.", field=field)


__all__ = ["BASIC", "BULK_LIMIT", "JiraApiError", "JiraClient", "ServerInfo", "bad_name"]
