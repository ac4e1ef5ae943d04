"""The GitHub sandbox app: routing at ``/`` (like api.github.com) and under ``/api/v3`` (like Enterprise).

Authentication is ``Authorization: token <t>`` or ``Bearer <t>`` (or Basic with the token as the
password); an unknown token answers 401 "Bad credentials". Every response carries the
``x-ratelimit-*`` headers, ``X-OAuth-Scopes`` for classic tokens, and under ``/api/v3``
``X-GitHub-Enterprise-Version``. Each request is kept in :attr:`GitHubSandbox.received` (method,
path, query, headers, body) so tests can check what a client sent.
"""

from __future__ import annotations

import base64
import re
import threading
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from werkzeug.wrappers import Request, Response

from almdesk.sandbox.base import SandboxApp, json_response
from almdesk.sandbox.github import issues as issue_api
from almdesk.sandbox.github import render, repos
from almdesk.sandbox.github import search as search_api
from almdesk.sandbox.github.http import Call, HttpError
from almdesk.sandbox.github.limits import WRITE_METHODS, RateLimits
from almdesk.sandbox.github.model import Token
from almdesk.sandbox.github.seed import BOT, DEMO_REPO, ORG, TASK_LABEL, build_world

PREFIX = "/api/v3"
API_VERSION = "2022-11-28"
SEG = r"([^/]+)"

Handler = Callable[..., Response]


@dataclass
class Received:
    """A request as the sandbox received it (headers include Authorization: never log them)."""

    method: str
    path: str  # without the /api/v3 prefix
    query: str
    headers: dict[str, str]
    body: bytes
    status: int = 0
    enterprise: bool = False
    response_headers: dict[str, str] | None = None  # with ``keep_responses`` only
    response_body: bytes | None = None


class GitHubSandbox(SandboxApp):
    """Seeded GitHub REST API. ``tokens`` maps ``admin`` / ``readonly`` / ``public`` to token values."""

    system = "github"

    def __init__(self, seed: int = 0, *, strict_rate_limits: bool = False, issues: int = 320,
                 primary_limit: int = 5000, primary_window: float = 3600.0, secondary_minute: float = 60.0,
                 secondary_status: int = 403, search_limit: int = 30, search_window: float = 60.0,
                 keep: int = 5000) -> None:
        super().__init__(seed)
        self.world, self.tokens = build_world(seed, issues)
        self.limits = RateLimits(primary_limit=primary_limit, primary_window=primary_window, strict=strict_rate_limits,
                                 minute=secondary_minute, secondary_status=secondary_status, search_limit=search_limit,
                                 search_window=search_window)
        self.received: deque[Received] = deque(maxlen=keep)
        self.keep_responses = False  # tests turn this on to check responses against the OpenAPI document
        self._received_lock = threading.Lock()
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = [
            ("GET", re.compile(r"/"), repos.root),
            ("GET", re.compile(r"/user"), repos.current_user),
            ("GET", re.compile(r"/search/issues"), search_api.search_issues),
            ("GET", re.compile(r"/user/repos"), repos.user_repos),
            ("GET", re.compile(rf"/users/{SEG}"), repos.user),
            ("GET", re.compile(rf"/repos/{SEG}/{SEG}"), repos.repository),
            ("GET|POST", re.compile(rf"/repos/{SEG}/{SEG}/labels"), repos.labels),
            ("GET", re.compile(rf"/repos/{SEG}/{SEG}/labels/{SEG}"), repos.label),
            ("GET|POST", re.compile(rf"/repos/{SEG}/{SEG}/milestones"), repos.milestones),
            ("GET", re.compile(rf"/repos/{SEG}/{SEG}/milestones/(\d+)"), repos.milestone),
            ("GET", re.compile(rf"/repos/{SEG}/{SEG}/issues"), issue_api.list_issues),
            ("POST", re.compile(rf"/repos/{SEG}/{SEG}/issues"), issue_api.create_issue),
            ("GET", re.compile(rf"/repos/{SEG}/{SEG}/issues/(\d+)"), issue_api.get_issue),
            ("PATCH", re.compile(rf"/repos/{SEG}/{SEG}/issues/(\d+)"), issue_api.update_issue),
            ("GET|POST|PUT", re.compile(rf"/repos/{SEG}/{SEG}/issues/(\d+)/labels"), issue_api.issue_labels),
        ]

    # --- SandboxApp ------------------------------------------------------------------------
    def describe(self, base_url: str) -> dict[str, Any]:
        return {
            "system": self.system,
            "url": base_url,
            "params": {"url": f"{base_url}{PREFIX}", "github_repo_owner": ORG},
            "secrets": {"alm_api_token": self.tokens["admin"]},
            "connection_params": {"github_repo_owner": ORG, "alm_project": DEMO_REPO,
                                  "github_issue_label": TASK_LABEL, "github_duplicate_label": "duplicate"},
        }

    def dispatch(self, request: Request) -> Response:
        path = request.path
        enterprise = path == PREFIX or path.startswith(PREFIX + "/")
        if enterprise:
            path = path[len(PREFIX):] or "/"
        if len(path) > 1:
            path = path.rstrip("/")
        host = request.host_url.rstrip("/")
        body = request.get_data(cache=True)
        record = Received(request.method, path, request.query_string.decode("latin-1"),
                          dict(request.headers.items()), body, enterprise=enterprise)
        try:
            response = self._answer(request, path, host, enterprise)
        except HttpError as exc:
            response = json_response(exc.body, exc.status)
        record.status = response.status_code
        if self.keep_responses:
            record.response_headers = dict(response.headers.items())
            record.response_body = response.get_data()
        with self._received_lock:
            self.received.append(record)
        return response

    # --- internals -------------------------------------------------------------------------
    def _answer(self, request: Request, path: str, host: str, enterprise: bool) -> Response:
        api = host + (PREFIX if enterprise else "")
        with self.lock:
            token = self._authenticate(request)
            call = Call(request, self.world, path, api, host, token)
            if not enterprise and (page := self._web_route(call)) is not None:
                return page
            call.headers.update(self._standard_headers(token, enterprise))
            key = f"token:{token.value}" if token else f"ip:{request.remote_addr}"
            if path == "/rate_limit":
                return self._finish(repos.rate_limit(call, self.limits, key), call)
            resource = "search" if path.startswith("/search/") else "core"
            limit_headers, over = self.limits.charge(key, token is not None, resource)
            call.headers.update(limit_headers)
            if over:
                owner = self.world.user(token.login) if token else None
                who = f"user ID {owner.id}" if owner else str(request.remote_addr)
                return self._finish(json_response(render.error(f"API rate limit exceeded for {who}."), 403), call)
            if path == "/meta":
                return self._finish(repos.meta(call, enterprise), call)
            handler, args = self._route(request.method, path)
            if request.method in WRITE_METHODS and token is not None:
                wait = self.limits.secondary(key)
                if wait is not None:
                    call.headers["retry-after"] = str(max(1, round(wait + 0.4999)))
                    message = ("You have exceeded a secondary rate limit. Please wait a few minutes before you "
                               f"try again. If you reach out to GitHub Support for help, please include the "
                               f"request ID {call.headers['X-GitHub-Request-Id']}.")
                    return self._finish(json_response(render.error(message), self.limits.secondary_status), call)
            try:
                return self._finish(handler(call, *args), call)
            except HttpError as exc:
                return self._finish(json_response(exc.body, exc.status), call)

    def _authenticate(self, request: Request) -> Token | None:
        header = request.headers.get("Authorization", "").strip()
        if not header:
            return None
        scheme, _, value = header.partition(" ")
        value = value.strip()
        if scheme.lower() == "basic":
            try:
                value = base64.b64decode(value).decode().partition(":")[2]
            except (ValueError, UnicodeDecodeError):
                value = ""
        elif scheme.lower() not in ("token", "bearer"):
            value = ""
        token = self.world.tokens.get(value)
        if token is None:
            raise HttpError(401, "Bad credentials")
        return token

    def _standard_headers(self, token: Token | None, enterprise: bool) -> dict[str, str]:
        headers = {"X-GitHub-Media-Type": "github.v3; format=json", "X-GitHub-Api-Version-Selected": API_VERSION,
                   "X-GitHub-Request-Id": uuid.uuid4().hex[:16].upper()}
        if token is not None and token.scopes is not None:
            headers["X-OAuth-Scopes"] = ", ".join(token.scopes)
        if enterprise:
            headers["X-GitHub-Enterprise-Version"] = repos.ENTERPRISE_VERSION
        return headers

    def _route(self, method: str, path: str) -> tuple[Handler, tuple[str, ...]]:
        for methods, pattern, handler in self.routes:
            match = pattern.fullmatch(path)
            if match and method in methods.split("|"):
                return handler, match.groups()
        raise HttpError(404, "Not Found")

    def _web_route(self, call: Call) -> Response | None:
        match = re.fullmatch(rf"/{SEG}/{SEG}/(issues|pull)/(\d+)", call.path)
        if match and self.world.user(match.group(1)) is not None:
            return repos.web_page(call, *match.groups())
        return None

    @staticmethod
    def _finish(response: Response, call: Call) -> Response:
        for key, value in call.headers.items():
            response.headers[key] = value
        return response

    # --- for tests and the demo ------------------------------------------------------------
    def requests_to(self, method: str, pattern: str) -> list[Received]:
        """Requests received whose method matches and whose path fully matches ``pattern``."""
        with self._received_lock:
            return [r for r in self.received if r.method == method and re.fullmatch(pattern, r.path)]

    @property
    def bot(self) -> str:
        return BOT
