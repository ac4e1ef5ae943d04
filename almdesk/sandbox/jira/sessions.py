"""Jira Data Center's cookie sessions in the sandbox: ``POST /rest/auth/1/session`` (username + password)
mints a ``JSESSIONID``; ``GET`` tells whose it is; ``DELETE`` signs out. Tests mint one with
:meth:`Sessions.mint` and end it with :meth:`Sessions.expire` (no clock involved).

A request carrying an unknown or expired ``JSESSIONID`` is anonymous, as in Jira (``X-AUSERNAME:
anonymous``, 401 where a user is needed); on a site set up with an SSO sign-in (``sso_url``) it is
redirected there instead, the way an SSO plugin sends a browser to the identity provider.
"""

from __future__ import annotations

import secrets
import threading
from urllib.parse import quote

from werkzeug.wrappers import Request, Response

from almdesk.sandbox.base import json_response
from almdesk.sandbox.jira.model import JiraData, User, jira_time, now

COOKIE = "JSESSIONID"
LOGIN_PATH = "/rest/auth/1/session"


class Sessions:
    """Live and ended session ids, each for one user key (thread-safe)."""

    def __init__(self, data: JiraData, context_path: str = "", sso_url: str = "") -> None:
        self.data = data
        self.context_path = context_path
        self.sso_url = sso_url.rstrip("/")
        self._live: dict[str, str] = {}
        self._ended: set[str] = set()
        self._lock = threading.Lock()
        self.logins = 0

    def mint(self, user: User) -> str:
        """A new session id for ``user`` (what a browser sign-in would give)."""
        value = secrets.token_hex(16).upper()
        with self._lock:
            self._live[value] = user.key
        return value

    def expire(self, value: str | None = None) -> None:
        """End one session, or every session (the server restarted, the idle timeout passed)."""
        with self._lock:
            ended = [value] if value is not None else list(self._live)
            for v in ended:
                if self._live.pop(v, None) is not None:
                    self._ended.add(v)

    def user_of(self, value: str) -> User | None:
        with self._lock:
            key = self._live.get(value)
        return next((u for u in self.data.users.values() if u.key == key), None) if key else None

    def authenticate(self, request: Request) -> tuple[User | None, Response | None]:
        """The session's user; an unknown/ended cookie is anonymous, or redirected to the SSO sign-in."""
        value = request.cookies.get(COOKIE, "")
        if not value:
            return None, None
        user = self.user_of(value)
        if user is None and self.sso_url:
            where = f"{self.sso_url}/idp/login?RelayState={quote(request.url, safe='')}"
            return None, Response("", status=302, headers={"Location": where})
        return user, None

    # --- /rest/auth/1/session --------------------------------------------------------------
    def handle(self, request: Request, base: str) -> Response:
        if request.method == "POST":
            return self._login(request)
        user = self.user_of(request.cookies.get(COOKIE, ""))
        if user is None:
            return json_response({"errorMessages": ["You are not authenticated. Authentication required to "
                                                    "perform this operation."], "errors": {}}, 401)
        if request.method == "DELETE":
            self.expire(request.cookies.get(COOKIE, ""))
            return Response("", status=204)
        if request.method == "GET":
            return json_response({"self": f"{base}/rest/api/2/user?username={user.name}", "name": user.name,
                                  "loginInfo": self._info()})
        return Response("", status=405, headers={"Allow": "GET, POST, DELETE"})

    def _login(self, request: Request) -> Response:
        if request.mimetype != "application/json":
            return Response("", status=415)
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("username"), str) or not isinstance(
                body.get("password"), str):
            return json_response({"errorMessages": ["Invalid login request: username and password are "
                                                    "required."], "errors": {}}, 400)
        user = next((u for u in self.data.users.values() if u.name.lower() == body["username"].lower()), None)
        if user is None or not user.password or body["password"] != user.password:
            return json_response({"errorMessages": ["Login failed"], "errors": {}}, 401,
                                 headers={"X-Seraph-LoginReason": "AUTHENTICATED_FAILED"})
        value = self.mint(user)
        with self._lock:
            self.logins += 1
        response = json_response({"session": {"name": COOKIE, "value": value}, "loginInfo": self._info()})
        response.set_cookie(COOKIE, value, path=self.context_path or "/", httponly=True)
        return response

    def _info(self) -> dict[str, object]:
        return {"loginCount": self.logins, "previousLoginTime": jira_time(now())}
