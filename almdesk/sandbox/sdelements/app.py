"""The SD Elements API v2 sandbox: werkzeug routing, token auth, DRF errors, throttling, faults.

Every route lives under ``/api/v2/`` with a trailing slash, as on the real server. A request
needs ``Authorization: Token <token>`` (401 ``Authentication credentials were not provided.`` /
``Invalid token.``), an ``Accept`` that allows JSON (406), and gets 429 with ``Retry-After`` while
throttled (:meth:`SdeApp.throttle`). With ``sign_in_page`` set, every request is answered by an
HTML single-sign-on page (what a proxy or an SSO portal in front of a server sends).

Handlers are in :mod:`.org` (users, server info, business units, applications, projects,
statuses, phases), :mod:`.tasks` (tasks, notes, references) and :mod:`.alm` (jobs, connectors,
connections). Each takes ``(call, **url_values)`` and returns ``(status, body)``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from almdesk.sandbox.base import SandboxApp
from almdesk.sandbox.sdelements import alm, org, tasks
from almdesk.sandbox.sdelements.data import Store, User, populate
from almdesk.sandbox.sdelements.drf import ApiError, accepts_json, detail, respond

API = "/api/v2"
VERSION = "2024.1"
SIGN_IN_PAGE = ("<!DOCTYPE html><html><head><title>Sign in - Single Sign-On</title></head><body>"
                "<form method='post' action='/sso/login'><h1>Sign in to continue</h1>"
                "<input name='username'><input name='password' type='password'></form></body></html>")


@dataclass
class Call:
    """One authenticated request as handlers see it."""

    request: Request
    user: User
    store: Store
    app: SdeApp

    def now(self) -> datetime:
        return self.app.clock()


Handler = Callable[..., tuple[int, Any]]


def _routes() -> list[tuple[str, str, Handler]]:
    return [
        ("/users/me/", "GET", org.me),
        ("/server-info/", "GET", org.server_info),
        ("/business-units/", "GET", org.business_units),
        ("/business-units/<int:bu>/", "GET", org.business_unit),
        ("/applications/", "GET", org.applications),
        ("/applications/<int:app_id>/", "GET", org.application),
        ("/projects/", "GET", org.projects),
        ("/projects/<int:project>/", "GET", org.project),
        ("/task-statuses/", "GET", org.statuses),
        ("/task-statuses/<status_id>/", "GET", org.status),
        ("/phases/", "GET", org.phases),
        ("/phases/<int:phase>/", "GET", org.phase),
        ("/projects/<int:project>/tasks/", "GET", tasks.task_list),
        ("/projects/<int:project>/tasks/<task>/", "GET", tasks.task_detail),
        ("/projects/<int:project>/tasks/<task>/", "PATCH", tasks.task_patch),
        ("/projects/<int:project>/tasks/<task>/notes/", "GET", tasks.notes),
        ("/projects/<int:project>/tasks/<task>/notes/", "POST", tasks.note_add),
        ("/projects/<int:project>/tasks/<task>/references/", "GET", tasks.references),
        ("/projects/<int:project>/tasks/<task>/references/", "POST", tasks.reference_add),
        ("/projects/<int:project>/tasks/<task>/references/<int:ref>/", "GET", tasks.reference),
        ("/projects/<int:project>/tasks/<task>/references/<int:ref>/", "PATCH", tasks.reference_patch),
        ("/projects/<int:project>/tasks/<task>/references/<int:ref>/", "DELETE", tasks.reference_delete),
        ("/jobs/alm/", "GET", alm.jobs),
        ("/jobs/alm/", "POST", alm.job_add),
        ("/jobs/alm/<int:job>/", "GET", alm.job),
        ("/connectors/alm/", "GET", alm.connectors),
        ("/connectors/alm/", "POST", alm.connector_add),
        ("/connectors/alm/<int:connector>/", "GET", alm.connector),
        ("/connectors/alm/<int:connector>/", "PATCH", alm.connector_patch),
        ("/connectors/alm/<int:connector>/", "DELETE", alm.connector_delete),
        ("/connectors/testalm/", "POST", alm.connector_test),
        ("/connections/alm/", "GET", alm.connections),
        ("/connections/alm/", "POST", alm.connection_add),
        ("/connections/alm/<int:connection>/", "GET", alm.connection),
        ("/connections/alm/<int:connection>/", "PATCH", alm.connection_patch),
        ("/connections/alm/<int:connection>/", "DELETE", alm.connection_delete),
        ("/connections/testalm/", "POST", alm.connection_test),
    ]


class SdeApp(SandboxApp):
    """An SD Elements server on loopback with the seeded data of :mod:`.data`.

    ``tasks``: how many tasks the demo project holds (≥ 60 by default; the bench asks 5,000).
    ``clock``: what "now" is for ``updated`` stamps and job runs (tests may inject one).
    """

    system = "sdelements"

    def __init__(self, seed: int = 0, tasks: int = 72, clock: Callable[[], datetime] | None = None) -> None:
        super().__init__(seed)
        self.store = Store()
        populate(self.store, tasks=tasks, seed=seed)
        self.clock = clock or (lambda: datetime.now(UTC))
        self.sign_in_page = False
        self._throttled = 0
        self._retry_after = 1
        self._state = threading.Lock()
        self.handlers: dict[str, Handler] = {}
        rules = []
        for path, method, handler in _routes():
            endpoint = f"{handler.__module__.rsplit('.', 1)[-1]}.{handler.__name__}"
            self.handlers[endpoint] = handler
            rules.append(Rule(API + path, endpoint=endpoint, methods=[method], strict_slashes=False))
        self.urls = Map(rules, redirect_defaults=False)
        self.counts: dict[str, int] = {}  # endpoint → requests answered, for tests and the bench

    # --- SandboxApp -------------------------------------------------------------------------
    def describe(self, base_url: str) -> dict[str, Any]:
        store = self.store
        project = store.projects[store.demo_project]
        application = store.applications[project["application"]]
        bu = store.business_units[application["business_unit"]]
        return {"system": "sdelements", "url": base_url, "params": {"url": base_url},
                "secrets": {"api_token": store.users[0].token},
                "connection_params": {},
                "project": {"id": project["id"], "name": project["name"], "business_unit": bu["name"],
                            "application": application["name"]}}

    def fault_response(self, kind: str) -> Response | None:
        if kind in ("500", "502", "503"):
            return respond(int(kind), {"detail": "A server error occurred."})
        if kind == "429":
            after = self.faults.retry_after if self.faults else 1
            return respond(429, {"detail": f"Request was throttled. Expected available in {after} seconds."},
                           {"Retry-After": str(after)})
        return super().fault_response(kind)

    # --- controls for tests -----------------------------------------------------------------
    def throttle(self, requests: int, retry_after: int = 1) -> None:
        """Answer the next ``requests`` API requests with 429 and ``Retry-After: retry_after``."""
        with self._state:
            self._throttled = requests
            self._retry_after = retry_after

    def token(self, email: str) -> str:
        return next(u.token for u in self.store.users if u.email == email)

    # --- HTTP -------------------------------------------------------------------------------
    def dispatch(self, request: Request) -> Response:
        if self.sign_in_page:
            return Response(SIGN_IN_PAGE, content_type="text/html; charset=utf-8")
        if not request.path.startswith(API + "/"):
            return Response("<!DOCTYPE html><html><head><title>SD Elements</title></head><body><h1>SD Elements "
                            "sandbox</h1><p>API v2 at /api/v2/</p></body></html>",
                            status=200 if request.path in ("/", "") else 404, content_type="text/html")
        try:
            return self._api(request)
        except ApiError as exc:
            return respond(exc.status, exc.body, exc.headers)

    def _api(self, request: Request) -> Response:
        adapter = self.urls.bind_to_environ(request.environ)
        try:
            endpoint, values = adapter.match()
        except MethodNotAllowed:
            raise detail(405, f'Method "{request.method}" not allowed.') from None
        except NotFound:
            raise detail(404, "Not found.") from None
        if not accepts_json(request):
            raise detail(406, "Could not satisfy the request Accept header.")
        user = self._authenticate(request)
        with self._state:
            if self._throttled > 0:
                self._throttled -= 1
                after = self._retry_after
                raise detail(429, f"Request was throttled. Expected available in {after} seconds.",
                             **{"Retry-After": str(after)})
        with self.lock:
            self.counts[endpoint] = self.counts.get(endpoint, 0) + 1
            status, body = self.handlers[endpoint](Call(request, user, self.store, self), **values)
        return respond(status, body)

    def _authenticate(self, request: Request) -> User:
        header = request.headers.get("Authorization", "")
        if not header:
            raise detail(401, "Authentication credentials were not provided.", **{"WWW-Authenticate": "Token"})
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "token":
            raise detail(401, "Authentication credentials were not provided.", **{"WWW-Authenticate": "Token"})
        token = token.strip().strip('"')
        if not token:
            raise detail(401, "Invalid token header. No credentials provided.", **{"WWW-Authenticate": "Token"})
        if " " in token:
            raise detail(401, "Invalid token header. Token string should not contain spaces.",
                         **{"WWW-Authenticate": "Token"})
        user = self.store.user_by_token(token)
        if user is None:
            raise detail(401, "Invalid token.", **{"WWW-Authenticate": "Token"})
        return user


