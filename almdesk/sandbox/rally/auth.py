"""Rally sandbox authentication and the per-user concurrency limit.

Two ways in, as on rally1: an API key in the ``ZSESSIONID`` header (no security token needed for
writes), or HTTP basic auth, which opens a ``JSESSIONID`` session; writes over basic auth must carry
``?key=<SecurityToken>`` from ``GET /security/authorize`` of the same session, else Rally answers
HTTP 200 with ``Errors: ["Not authorized to perform action: Invalid key"]``. Rally allows 12
concurrent requests per user and slows the rest down (KB 95713); ``strict`` answers 429 instead.
"""

from __future__ import annotations

import base64
import secrets
import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from werkzeug.wrappers import Request

from almdesk.sandbox.rally.store import Obj, Store

CONCURRENCY_LIMIT = 12
INVALID_KEY = "Not authorized to perform action: Invalid key"


@dataclass
class Caller:
    user: Obj
    via: str  # api_key | basic
    session_id: str = ""
    new_session: bool = False


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
            return Caller(user, "api_key")
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


class Limiter:
    """At most ``limit`` requests in flight per user; the rest wait (or get 429 when ``strict``)."""

    def __init__(self, limit: int = CONCURRENCY_LIMIT, strict: bool = False) -> None:
        self.limit = limit
        self.strict = strict
        self._lock = threading.Lock()
        self._sems: dict[int, threading.BoundedSemaphore] = {}
        self.in_flight: dict[int, int] = defaultdict(int)
        self.max_in_flight: dict[int, int] = defaultdict(int)
        self.waited = 0
        self.refused = 0

    @contextmanager
    def slot(self, user_oid: int) -> Iterator[bool]:
        """Yields False when strict and the user is over the limit (answer 429), True otherwise."""
        with self._lock:
            sem = self._sems.setdefault(user_oid, threading.BoundedSemaphore(self.limit))
        acquired = sem.acquire(blocking=False)
        if not acquired:
            if self.strict:
                with self._lock:
                    self.refused += 1
                yield False
                return
            with self._lock:
                self.waited += 1
            sem.acquire()
        with self._lock:
            self.in_flight[user_oid] += 1
            self.max_in_flight[user_oid] = max(self.max_in_flight[user_oid], self.in_flight[user_oid])
        try:
            yield True
        finally:
            with self._lock:
                self.in_flight[user_oid] -= 1
            sem.release()
