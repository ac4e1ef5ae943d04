"""The Jira sandbox application: routing, authentication, rate limiting and the metadata endpoints.

Two modes. ``cloud`` serves ``/rest/api/2``, ``/rest/api/3`` (ADF) and ``latest``, accepts e-mail + API
token over basic auth (passwords and Bearer API tokens are refused), and reports ``deploymentType:
Cloud``. ``dc`` serves ``/rest/api/2`` and ``latest`` only, accepts a personal access token as Bearer,
username + password over basic auth, or a ``JSESSIONID`` session cookie (minted by ``POST
/rest/auth/1/session`` or :meth:`JiraSandbox.mint_session`, see :mod:`sessions`), marks every answer with
``X-AUSERNAME`` (the user, or ``anonymous``), and reports ``deploymentType: Server`` as Data Center does.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RuleFactory, Submount
from werkzeug.wrappers import Request, Response

from almdesk.sandbox.base import MediaPolicy, Router, SandboxApp, TokenBucket, json_response, rule
from almdesk.sandbox.jira import issues, search
from almdesk.sandbox.jira.context import ApiError, Call
from almdesk.sandbox.jira.model import JiraData, User, jira_time, now
from almdesk.sandbox.jira.seed import SDE_LABEL, build
from almdesk.sandbox.jira.sessions import COOKIE, LOGIN_PATH, Sessions

Handler = Callable[[Call], Response]
CLOUD_PASSWORD_TEXT = ("Basic authentication with passwords is deprecated.  For more information, see: "
                       "https://developer.atlassian.com/cloud/confluence/deprecation-notice-basic-auth/")


RateLimiter = TokenBucket  # the shared token bucket (tests read ``app.limiter``)


def _rest(path: str) -> bool:
    return "/rest/api/" in path


class JiraSandbox(SandboxApp):
    """A Jira Cloud or Data Center site on loopback, as strict as Jira is (current Cloud; DC 9.12).

    JSON answers are ``application/json;charset=UTF-8``; dates, ``serverTime`` included, are Jira's
    ``…+0000``; Cloud marks authenticated answers with ``X-AAccountId``. REST bodies must be JSON:
    form posts (urlencoded, multipart, ``text/plain``) without ``X-Atlassian-Token: no-check`` answer
    403 "XSRF check failed" (Jira's XSRF filter), any other or no ``Content-Type`` 415, and an
    ``Accept`` without JSON 406. Cloud still serves the deprecated ``issue/createmeta?projectKeys=``
    (it is in the v3 document); Data Center 9+ removed it (404) and serves only the paged
    ``createmeta/{project}/issuetypes[/{id}]`` with items under ``values``.
    """

    system = "jira"
    json_type = "application/json;charset=UTF-8"
    media = MediaPolicy(xsrf=True, applies=_rest)

    def __init__(self, seed: int = 0, mode: str = "cloud", *, issues_count: int = 150, context_path: str = "",
                 rate_limit: tuple[int, float] | None = (300, 150.0), max_results: int | None = None,
                 captcha_after: int | None = None, search_lag: int = 0, sso_url: str = "") -> None:
        super().__init__(seed)
        if mode not in ("cloud", "dc"):
            raise ValueError("Jira sandbox mode must be 'cloud' or 'dc'")
        self.mode = mode
        self.context_path = context_path.rstrip("/")
        self.data: JiraData = build(seed, mode, issues_count)
        self.data.search_lag = search_lag if mode == "cloud" else 0
        self.limiter = RateLimiter(*rate_limit) if rate_limit else None
        self.options: dict[str, Any] = {"max_results": max_results, "bulk_items": self.bulk_items}
        self.captcha_after = captcha_after
        self.failed_logins: dict[str, int] = {}
        self.sessions = Sessions(self.data, self.context_path, sso_url)
        self.router = Router(self._rules())

    # --- describe -------------------------------------------------------------------------
    @property
    def admin(self) -> User:
        return next(u for u in self.data.users.values() if u.name == "admin")

    def user_named(self, name: str) -> User:
        return next(u for u in self.data.users.values() if u.name == name)

    def describe(self, base_url: str) -> dict[str, Any]:
        url = base_url.rstrip("/") + self.context_path
        admin = self.admin
        cloud = self.mode == "cloud"
        return {
            "system": "jira",
            "url": url,
            "params": {"url": url, "deployment": "cloud" if cloud else "datacenter",
                       "auth_method": "api_token" if cloud else "pat",
                       "user": admin.email if cloud else admin.name},
            "secrets": {"token": admin.api_token if cloud else admin.pat},
            "connection_params": {"alm_project": "DEMO", "jira_issue_type": "Bug",
                                  "jira_done_statuses": "Resolved,Closed", "jira_close_transition": "Close Issue",
                                  "jira_reopen_transition": "Reopen Issue", "alm_issue_label": SDE_LABEL},
        }

    def mint_session(self, name: str = "admin") -> str:
        """A browser session cookie (``JSESSIONID=…``) of user ``name``, as a signed-in browser holds it (DC)."""
        return f"{COOKIE}={self.sessions.mint(self.user_named(name))}"

    # --- routing --------------------------------------------------------------------------
    def _rules(self) -> list[RuleFactory]:
        cloud = self.mode == "cloud"
        table: list[tuple[str, str, Handler, bool]] = [
            ("GET", "/serverInfo", self.server_info, True),
            ("GET", "/myself", self.myself, True),
            ("GET", "/mypermissions", self.my_permissions, True),
            ("GET", "/project", self.projects, True),
            ("GET", "/project/search", self.project_search, cloud),
            ("GET", "/project/<project>", self.project, True),
            ("GET", "/project/<project>/statuses", self.project_statuses, True),
            ("GET", "/project/<project>/versions", self.project_versions, True),
            ("GET", "/issuetype", self.issue_types, True),
            ("GET", "/issue/createmeta", self.createmeta_projects, cloud),  # removed in DC 9
            ("GET", "/issue/createmeta/<project>/issuetypes", self.createmeta_types, True),
            ("GET", "/issue/createmeta/<project>/issuetypes/<type>", self.createmeta_fields, True),
            ("GET", "/field", self.fields, True),
            ("GET", "/priority", self.priorities, not cloud),  # Cloud: deprecated, replaced by /priority/search
            ("GET", "/priority/search", self.priority_search, cloud),
            ("GET", "/resolution", self.resolutions, True),
            ("GET", "/status", self.statuses, True),
            ("GET", "/label", self.labels, cloud),
            ("GET|POST", "/search", search.search_dc, True),
            ("GET|POST", "/search/jql", search.search_jql, cloud),
            ("POST", "/search/approximate-count", search.approximate_count, cloud),
            ("POST", "/issue", issues.create_issue, True),
            ("POST", "/issue/bulk", issues.create_bulk, True),
            ("GET", "/issue/<key>", issues.get_issue, True),
            ("PUT", "/issue/<key>", issues.edit_issue, True),
            ("GET", "/issue/<key>/transitions", issues.get_transitions, True),
            ("POST", "/issue/<key>/transitions", issues.do_transition, True),
        ]
        versions = '"2","3",latest' if cloud else '"2",latest'
        api = Submount(f"{self.context_path}/rest/api/<any({versions}):api>",
                       [rule(path, handler, methods) for methods, path, handler, served in table if served])
        rules = [rule(f"{self.context_path}/", self._home), rule(f"{self.context_path}/browse/<key>", self._browse),
                 api]
        if not cloud:
            rules.append(rule(f"{self.context_path}{LOGIN_PATH}", self._session, "GET|POST|DELETE"))
        return rules

    def dispatch(self, request: Request) -> Response:
        path = request.path
        base = request.host_url.rstrip("/") + self.context_path
        if self.context_path and not path.startswith(self.context_path):
            return self._page(404, "Not found", "This page lives outside Jira's context path.")
        try:
            endpoint, values = self.router.match(path, request.method)
        except MethodNotAllowed:
            return Response("", status=405, headers={"Allow": ", ".join(self.router.allowed(path))})
        except NotFound:
            return self._not_found(request, path)
        if endpoint in (self._home, self._browse):
            page: Response = endpoint(**values)
            return page
        if endpoint == self._session:
            return self.sessions.handle(request, base)
        user, failure = self._authenticate(request, base)
        limited = self._rate_limit(request, user)
        if limited is not None:
            return limited
        if failure is not None:
            return self._mark_user(failure, None)
        api = values.pop("api")
        call = Call(request, api, base, self.data, user, values, self.options)
        with self.lock:
            try:
                response: Response = endpoint(call)
            except ApiError as exc:
                response = exc.response(self.mode == "cloud")
        if user is not None and self.mode == "cloud":
            response.headers["X-AAccountId"] = user.key
        return self._mark_user(response, user)

    def _mark_user(self, response: Response, user: User | None) -> Response:
        if self.mode == "dc":  # Data Center names the user every answer was for
            response.headers["X-AUSERNAME"] = user.name if user else "anonymous"
        return response

    def _session(self) -> Response:  # routed only; dispatch hands /rest/auth/1/session to self.sessions
        raise NotFound()

    def _not_found(self, request: Request, path: str) -> Response:
        rest = path[len(self.context_path):]
        if not rest.startswith("/rest/api/"):
            return self._page(404, "Oops, you've found a dead link.", rest)
        if self.mode == "dc":
            return json_response({"message": f"null for uri: {request.url}", "status-code": 404}, 404)
        return json_response({"errorMessages": ["The requested resource could not be found."], "errors": {}}, 404)

    def _home(self) -> Response:
        return self._page(200, "Jira sandbox", f"A {self._deployment()} sandbox for almdesk.")

    def error(self, request: Request, status: int, message: str) -> Response:
        if status == 403:  # the XSRF filter answers before REST: a plain-text body
            return Response(message, status=403, content_type="text/plain;charset=UTF-8")
        if status in (406, 415):  # Jersey's own refusals: no ErrorCollection, an empty body
            return Response("", status=status)
        return json_response({"errorMessages": [message], "errors": {}}, status)

    def _page(self, status: int, title: str, text: str) -> Response:
        html = f"<!DOCTYPE html><html><head><title>{title}</title></head><body><h1>{title}</h1><p>{text}</p></body></html>"
        return Response(html, status=status, content_type="text/html; charset=UTF-8")

    def _browse(self, key: str) -> Response:
        with self.lock:
            issue = self.data.issue(key)
            if issue is None:
                return self._page(404, "Issue does not exist", key)
            status = self.data.statuses[issue.status].name
            return self._page(200, f"[{issue.key}] {issue.summary}", f"Status: {status}")

    def _deployment(self) -> str:
        return "Jira Cloud" if self.mode == "cloud" else "Jira Data Center"

    # --- auth and rate limits -------------------------------------------------------------
    def _fail(self, text: str = "") -> Response:
        headers = {"X-Seraph-LoginReason": "AUTHENTICATED_FAILED",
                   "WWW-Authenticate": 'Basic realm="protected-area"' if self.mode == "cloud"
                   else 'OAuth realm="jira"'}
        return Response(text, status=401, headers=headers, content_type="text/plain;charset=UTF-8")

    def _authenticate(self, request: Request, base: str) -> tuple[User | None, Response | None]:
        header = request.headers.get("Authorization", "")
        if not header:
            return self.sessions.authenticate(request) if self.mode == "dc" else (None, None)
        scheme, _, cred = header.partition(" ")
        users = list(self.data.users.values())
        cloud = self.mode == "cloud"
        if scheme.lower() == "bearer":
            token = cred.strip()
            user = None if cloud else next((u for u in users if u.pat and u.pat == token), None)
            return (user, None) if user else (None, self._fail())
        if scheme.lower() != "basic":
            return None, self._fail()
        try:
            name, _, secret = base64.b64decode(cred.strip()).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None, self._fail()
        if cloud:
            user = next((u for u in users if u.email.lower() == name.lower()), None)
            if user and secret and secret == user.api_token:
                return user, None
            if user and secret == user.password:
                return None, self._fail(CLOUD_PASSWORD_TEXT)
            return None, self._fail()
        user = next((u for u in users if u.name.lower() == name.lower()), None)
        with self.lock:
            failures = self.failed_logins.get(name.lower(), 0)
            if user and self.captcha_after and failures >= self.captcha_after:
                return None, Response("", status=403, headers={
                    "X-Authentication-Denied-Reason": f"CAPTCHA_CHALLENGE; login-url={base}/login.jsp",
                    "X-Seraph-LoginReason": "AUTHENTICATION_DENIED"})
            if user and secret == user.password:
                self.failed_logins.pop(name.lower(), None)
                return user, None
            if user:
                self.failed_logins[name.lower()] = failures + 1
        return None, self._fail()

    def _rate_limit(self, request: Request, user: User | None) -> Response | None:
        if self.limiter is None:
            return None
        who = user.key if user else (request.remote_addr or "anonymous")
        wait, _left = self.limiter.check(who)
        if wait is None:
            return None
        capacity = self.limiter.capacity
        if self.mode == "cloud":
            reset = (datetime.now(UTC) + timedelta(seconds=wait)).strftime("%Y-%m-%dT%H:%MZ")
            headers = {"Retry-After": str(wait), "X-RateLimit-Limit": str(capacity), "X-RateLimit-Remaining": "0",
                       "X-RateLimit-Reset": reset, "RateLimit-Reason": "jira-burst-based",
                       "X-RateLimit-NearLimit": "true"}
        else:
            headers = {"Retry-After": str(wait), "X-RateLimit-Limit": str(capacity), "X-RateLimit-Remaining": "0",
                       "X-RateLimit-Interval-Seconds": "1", "X-RateLimit-FillRate": str(int(self.limiter.rate))}
        return json_response({"errorMessages": ["Rate limit exceeded."], "errors": {}}, 429, headers=headers)

    # --- metadata endpoints ---------------------------------------------------------------
    def server_info(self, call: Call) -> Response:
        cloud = self.mode == "cloud"
        version = [1001, 0, 0] if cloud else [9, 12, 15]
        out: dict[str, Any] = {
            "baseUrl": call.base, "version": ".".join(map(str, version)) + ("-SNAPSHOT" if cloud else ""),
            "versionNumbers": version, "deploymentType": "Cloud" if cloud else "Server",
            "buildNumber": 100282 if cloud else 9120015, "buildDate": "2025-05-28T00:00:00.000+0000",
            "serverTime": jira_time(now()), "scmInfo": "0b6f1a2c3d4e5f60718293a4b5c6d7e8f9012345",
            "serverTitle": "Jira",
        }
        if cloud:
            out["displayUrl"] = call.base
        else:
            out["databaseBuildNumber"] = 9120015
        return json_response(out)

    def myself(self, call: Call) -> Response:
        return json_response(call.render.user(call.require_user(), full=True))

    def my_permissions(self, call: Call) -> Response:
        wanted = [p for p in call.arg("permissions").split(",") if p]
        if self.mode == "cloud" and not wanted:
            raise ApiError(400, ["The permissions query parameter is required."])
        key = call.arg("projectKey")
        if key and (self.data.project(key) is None or not call.can("BROWSE_PROJECTS")):
            raise ApiError(404, [f"No project could be found with key '{key}'."])
        perms = {p: {"id": str(n), "key": p, "name": p.replace("_", " ").title(), "type": "PROJECT",
                     "description": "", "havePermission": call.can(p)} for n, p in enumerate(wanted, 10)}
        return json_response({"permissions": perms})

    def _project(self, call: Call) -> Any:
        ref = call.params["project"]
        project = self.data.project(ref)
        if project is None or not call.can("BROWSE_PROJECTS"):
            raise ApiError(404, [f"No project could be found with key '{ref}'."])
        return project

    def projects(self, call: Call) -> Response:
        visible = list(self.data.projects.values()) if call.can("BROWSE_PROJECTS") else []
        return json_response([call.render.project_brief(p) for p in visible])

    def project_search(self, call: Call) -> Response:
        visible = list(self.data.projects.values()) if call.can("BROWSE_PROJECTS") else []
        start, size = call.int_arg("startAt", 0), min(call.int_arg("maxResults", 50), 100)
        page = visible[start:start + size]
        return json_response({"self": call.request.url, "maxResults": size, "startAt": start, "total": len(visible),
                              "isLast": start + size >= len(visible),
                              "values": [call.render.project_brief(p) for p in page]})

    def project(self, call: Call) -> Response:
        return json_response(call.render.project(self._project(call), call.arg("expand")))

    def project_statuses(self, call: Call) -> Response:
        project = self._project(call)
        render = call.render
        out = []
        for tid in project.issue_types:
            itype = self.data.issue_types[tid]
            wf = project.workflows[tid]
            ids = dict.fromkeys([wf.initial, *(t.to for t in wf.transitions), *(s for t in wf.transitions
                                                                                 for s in (t.sources or ()))])
            out.append({"self": f"{render.rest}/issuetype/{tid}", "id": tid, "name": itype.name,
                        "subtask": itype.subtask, "statuses": [render.status(self.data.statuses[s]) for s in ids]})
        return json_response(out)

    def project_versions(self, call: Call) -> Response:
        project = self._project(call)
        return json_response([call.render.version(v) for v in project.versions])

    def issue_types(self, call: Call) -> Response:
        return json_response([call.render.issuetype(t) for t in self.data.issue_types.values()])

    def createmeta_projects(self, call: Call) -> Response:
        """Cloud's deprecated ``issue/createmeta?projectKeys=…&expand=projects.issuetypes.fields``."""
        keys = {k for arg in call.request.args.getlist("projectKeys") for k in arg.split(",") if k}
        ids = {k for arg in call.request.args.getlist("projectIds") for k in arg.split(",") if k}
        type_names = {k for arg in call.request.args.getlist("issuetypeNames") for k in arg.split(",") if k}
        expand = call.arg("expand")
        render = call.render
        projects = []
        for project in self.data.projects.values() if call.can("BROWSE_PROJECTS") and call.can("CREATE_ISSUES") else ():
            if (keys or ids) and project.key not in keys and str(project.id) not in ids:
                continue
            types = []
            for tid in project.issue_types:
                itype = self.data.issue_types[tid]
                if type_names and itype.name not in type_names:
                    continue
                shown = render.issuetype(itype)
                shown.pop("avatarId", None)
                if "projects.issuetypes.fields" in expand:
                    shown["fields"] = {fid: render.create_field(fid, sf, project)
                                       for fid, sf in project.screens[tid].items()}
                types.append(shown)
            brief = render.project_brief(project)
            projects.append({k: brief[k] for k in ("self", "id", "key", "name", "avatarUrls") if k in brief}
                            | {"issuetypes": types})
        return json_response({"expand": "projects", "projects": projects})

    def createmeta_types(self, call: Call) -> Response:
        project = self._project(call)
        if not call.can("CREATE_ISSUES"):
            types: list[str] = []
        else:
            types = project.issue_types
        start, size = call.int_arg("startAt", 0), call.int_arg("maxResults", 50)
        page = types[start:start + size]
        values = [call.render.issuetype(self.data.issue_types[t]) for t in page]
        if self.mode == "cloud":
            for v in values:
                v.pop("avatarId", None)
            return json_response({"issueTypes": values, "maxResults": size, "startAt": start, "total": len(types)})
        return json_response({"maxResults": size, "startAt": start, "total": len(types),
                              "isLast": start + size >= len(types), "values": values})

    def createmeta_fields(self, call: Call) -> Response:
        project = self._project(call)
        tid = call.params["type"]
        if tid not in project.issue_types or not call.can("CREATE_ISSUES"):
            raise ApiError(400 if self.mode == "cloud" else 404,
                           [f"Issue type with id '{tid}' does not exist or is not valid for project "
                            f"'{project.key}'."])
        screen = project.screens[tid]
        fields = [call.render.create_field(fid, sf, project) for fid, sf in screen.items()]
        start, size = call.int_arg("startAt", 0), call.int_arg("maxResults", 50)
        page = fields[start:start + size]
        if self.mode == "cloud":
            return json_response({"fields": page, "maxResults": size, "startAt": start, "total": len(fields)})
        return json_response({"maxResults": size, "startAt": start, "total": len(fields),
                              "isLast": start + size >= len(fields), "values": page})

    def fields(self, call: Call) -> Response:
        return json_response([call.render.field(f) for f in self.data.fields.values()])

    def priorities(self, call: Call) -> Response:
        return json_response([{**call.render.priority(pid), "description": name, "statusColor": "#cccccc"}
                              for pid, name in self.data.priorities])

    def priority_search(self, call: Call) -> Response:
        """Cloud's paged priority list (``values``); ``projectId`` narrows it to schemes of those projects
        (the sandbox's projects all use the default scheme: every priority)."""
        rows = [{**call.render.priority(pid), "description": name, "statusColor": "#cccccc", "isDefault": i == 2}
                for i, (pid, name) in enumerate(self.data.priorities)]
        start, size = call.int_arg("startAt", 0), min(call.int_arg("maxResults", 50), 50)
        page = rows[start:start + size]
        return json_response({"maxResults": size, "startAt": start, "total": len(rows),
                              "isLast": start + size >= len(rows), "values": page})

    def resolutions(self, call: Call) -> Response:
        return json_response([call.render.resolution(rid) for rid, _ in self.data.resolutions])

    def statuses(self, call: Call) -> Response:
        return json_response([call.render.status(s) for s in self.data.statuses.values()])

    def labels(self, call: Call) -> Response:
        labels = self.data.all_labels()
        start, size = call.int_arg("startAt", 0), min(call.int_arg("maxResults", 1000), 1000)
        page = labels[start:start + size]
        return json_response({"maxResults": size, "startAt": start, "total": len(labels),
                              "isLast": start + size >= len(labels), "values": page})
