"""Rally sandbox authentication and the per-user concurrency limit.

Two ways in, as on rally1: an API key in the ``ZSESSIONID`` header (no security token needed for
writes), or HTTP basic auth, which opens a ``JSESSIONID`` session; writes over basic auth must carry
``?key=<SecurityToken>`` from ``GET /security/authorize`` of the same session, else Rally answers
HTTP 200 with ``Errors: ["Not authorized to perform action: Invalid key"]``. An API key may be
read-only (Broadcom KB 11568): reads work, every write answers HTTP 200 with an ``Errors`` entry
(the text is this sandbox's; Rally's own wording is not published). A refused sign-in answers 401
with Jetty's HTML page ("Full authentication is required to access this resource"), not the JSON
envelope, as rally1 does. The limit of 12 concurrent requests per user (KB 95713) is a
:class:`~almdesk.sandbox.base.Limit` of the app: extra requests wait, or with ``strict`` get 429.
"""

from __future__ import annotations

import base64
import secrets
import threading
from dataclasses import dataclass
from html import escape

from werkzeug.wrappers import Request, Response

from almdesk.sandbox.rally.store import Obj, Store

CONCURRENCY_LIMIT = 12
INVALID_KEY = "Not authorized to perform action: Invalid key"
READ_ONLY_KEY = "Not authorized to perform action: the API key is read-only"
TOO_MANY = "Too many concurrent requests: Rally allows 12 per user"
JETTY_REASON = "Full authentication is required to access this resource"


def jetty_401(path: str, detail: str) -> Response:
    """Rally's 401: Jetty's HTML error page, which never says why (``detail`` is dropped, as Rally does)."""
    page = ("<html>\n<head>\n<meta http-equiv=\"Content-Type\" content=\"text/html;charset=ISO-8859-1\"/>\n"
            f"<title>Error 401 {JETTY_REASON}</title>\n</head>\n<body><h2>HTTP ERROR 401</h2>\n"
            f"<p>Problem accessing {escape(path)}. Reason:\n<pre>    {JETTY_REASON}</pre></p>"
            f"<hr /><i><small>Powered by Jetty://</small></i>\n</body>\n</html>\n")
    return Response(page, status=401, content_type="text/html;charset=ISO-8859-1",
                    headers={"WWW-Authenticate": 'Basic realm="Rally ALM"'})


@dataclass
class Caller:
    user: Obj
    via: str  # api_key | basic
    session_id: str = ""
    new_session: bool = False
    read_only: bool = False


class AuthFailure(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Sessions:
    """Basic-auth sessions (cookie ``JSESSIONID``) and their security tokens."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, dict[str, object]] = {}

    def authenticate(self, store: Store, request: Request) -> Caller:
        api_key = request.headers.get("ZSESSIONID", "").strip()
        if api_key:
            oid = store.api_keys.get(api_key)
            user = store.get(oid, "User")
            if user is None:
                raise AuthFailure("Not authorized: the API key in ZSESSIONID is not valid")
            if user.get("Disabled"):
                raise AuthFailure("Not authorized: the user of this API key is disabled")
            return Caller(user, "api_key", read_only=api_key in store.read_only_keys)
        header = request.headers.get("Authorization", "")
        if header.lower().startswith("basic "):
            try:
                username, _, password = base64.b64decode(header[6:].strip()).decode("utf-8").partition(":")
            except (ValueError, UnicodeDecodeError):
                raise AuthFailure("Not authorized: malformed basic authorization header") from None
            user = next((u for u in store.by_type["User"].values() if u["UserName"] == username), None)
            if user is None or store.passwords.get(username) != password:
                raise AuthFailure("Error 401 The username or password you entered is incorrect.")
            if user.get("Disabled"):
                raise AuthFailure("Not authorized: this user is disabled")
            sid = request.cookies.get("JSESSIONID", "")
            with self._lock:
                session = self._sessions.get(sid)
                if session is None or session.get("user") != user["ObjectID"]:
                    sid = secrets.token_hex(16)
                    self._sessions[sid] = {"user": user["ObjectID"], "token": None}
                    return Caller(user, "basic", sid, new_session=True)
            return Caller(user, "basic", sid)
        raise AuthFailure("Not authorized: send an API key in the ZSESSIONID header, or basic auth")

    def token(self, caller: Caller) -> str:
        """The session's security token (made on first ask), what ``/security/authorize`` returns."""
        if caller.via != "basic":
            return secrets.token_hex(16)
        with self._lock:
            session = self._sessions.setdefault(caller.session_id, {"user": caller.user["ObjectID"], "token": None})
            if session.get("token") is None:
                session["token"] = secrets.token_hex(20)
            return str(session["token"])

    def key_ok(self, caller: Caller, key: str | None) -> bool:
        if caller.via == "api_key":
            return True
        with self._lock:
            session = self._sessions.get(caller.session_id)
            return bool(session and key and session.get("token") == key)

    def expire(self) -> None:
        with self._lock:
            self._sessions.clear()
