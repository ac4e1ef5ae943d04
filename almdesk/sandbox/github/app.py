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

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.wrappers import Request, Response

from almdesk.sandbox.base import Limit, MediaPolicy, Router, SandboxApp, json_response, rule
from almdesk.sandbox.github import issues as issue_api
from almdesk.sandbox.github import render, repos
from almdesk.sandbox.github import search as search_api
from almdesk.sandbox.github.http import Call, HttpError
from almdesk.sandbox.github.limits import WRITE_METHODS, RateLimits
from almdesk.sandbox.github.model import Token
from almdesk.sandbox.github.seed import BOT, DEMO_REPO, ORG, TASK_LABEL, build_world

PREFIX = "/api/v3"
API_VERSION = "2022-11-28"

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
    """Seeded GitHub REST API. ``tokens`` maps ``admin`` / ``readonly`` / ``public`` to token values.

    Strict like api.github.com (current cloud behaviour): every answer, a 401 included, carries
    ``X-GitHub-Request-Id``; JSON is ``application/json; charset=utf-8``; GET answers carry a weak
    ``ETag`` and an ``If-None-Match`` naming it gets 304 (which does not count against the primary
    limit); an ``Accept`` that allows no JSON answers 415 "Unsupported 'Accept' header" (GitHub reads
    any request body as JSON, so it has no 415 for bodies); at most 100 requests of one token are in
    flight (the published secondary limit), and with ``strict_rate_limits`` at most
    ``concurrent_writes`` writes (GitHub asks for writes one at a time), refused beyond with the
    secondary-limit answer.
    """

    system = "github"
    json_type = "application/json; charset=utf-8"
    etags = True
    media = MediaPolicy(serves=("application/json", "application/vnd.github+json", "application/vnd.github.v3+json",
                                "application/vnd.github.v3.full+json", "application/vnd.github.raw+json",
                                "application/vnd.github.text+json", "application/vnd.github.html+json",
                                "application/vnd.github.full+json", "application/vnd.github.v3.raw+json"),
                        serve_prefixes=("application/vnd.github",), accept_status=415, check_bodies=False,
                        applies=lambda path: not path.endswith((".diff", ".patch")))

    def __init__(self, seed: int = 0, *, strict_rate_limits: bool = False, issues: int = 320,
                 primary_limit: int = 5000, primary_window: float = 3600.0, secondary_minute: float = 60.0,
                 secondary_status: int = 403, search_limit: int = 30, search_window: float = 60.0,
                 keep: int = 5000, concurrent_writes: int = 1) -> None:
        super().__init__(seed)
        self.strict = strict_rate_limits
        self.concurrent_writes = concurrent_writes
        self.world, self.tokens = build_world(seed, issues)
        self.limits = RateLimits(primary_limit=primary_limit, primary_window=primary_window, strict=strict_rate_limits,
                                 minute=secondary_minute, secondary_status=secondary_status, search_limit=search_limit,
                                 search_window=search_window)
        self.received: deque[Received] = deque(maxlen=keep)
        self.keep_responses = False  # tests turn this on to check responses against the OpenAPI document
        self._received_lock = threading.Lock()
        self.router = Router([
            rule("/", repos.root),
            rule("/user", repos.current_user),
            rule("/search/issues", search_api.search_issues),
            rule("/user/repos", repos.user_repos),
            rule("/users/<login>", repos.user),
            rule("/repos/<owner>/<name>", repos.repository),
            rule("/repos/<owner>/<name>/labels", repos.labels, "GET|POST"),
            rule("/repos/<owner>/<name>/labels/<label_name>", repos.label),
            rule("/repos/<owner>/<name>/milestones", repos.milestones, "GET|POST"),
            rule("/repos/<owner>/<name>/milestones/<int:number>", repos.milestone),
            rule("/repos/<owner>/<name>/issues", issue_api.list_issues),
            rule("/repos/<owner>/<name>/issues", issue_api.create_issue, "POST"),
            rule("/repos/<owner>/<name>/issues/<int:number>", issue_api.get_issue),
            rule("/repos/<owner>/<name>/issues/<int:number>", issue_api.update_issue, "PATCH"),
            rule("/repos/<owner>/<name>/issues/<int:number>/labels", issue_api.issue_labels, "GET|POST|PUT"),
        ])
        self.web = Router([rule("/<owner>/<name>/<any(issues,pull):kind>/<int:number>", repos.web_page)])

    # --- SandboxApp ------------------------------------------------------------------------
    def concurrency_limits(self) -> list[Limit]:
        limits = [Limit("concurrent", 100)]
        if self.strict:
            limits.append(Limit("concurrent-writes", self.concurrent_writes, methods=WRITE_METHODS))
        return limits

    def caller(self, request: Request) -> str:
        header = request.headers.get("Authorization", "").strip()
        return f"auth:{header.partition(' ')[2].strip()[-12:]}" if header else f"ip:{request.remote_addr}"

    def standard_headers(self, request: Request) -> dict[str, str]:
        return {"X-GitHub-Media-Type": "github.v3; format=json", "X-GitHub-Api-Version-Selected": API_VERSION,
                "X-GitHub-Request-Id": self._request_id(request)}

    def error(self, request: Request, status: int, message: str) -> Response:
        if status == 415 and message.startswith("Not acceptable"):
            accept = request.headers.get("Accept", "")
            message = f"Unsupported 'Accept' header: {accept!r}. Must accept 'application/json'."
        return json_response(render.error(message), status)

    def refused(self, request: Request, limit: Limit) -> Response:
        self.limits.rejected += 1
        message = ("You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If "
                   "you reach out to GitHub Support for help, please include the request ID "
                   f"{self._request_id(request)}.")
        return json_response(render.error(message), self.limits.secondary_status, headers={"retry-after": "1"})

    def not_modified(self, request: Request) -> None:
        """A 304 does not count against the primary limit (GitHub's conditional requests)."""
        charged = request.environ.get("almdesk.github.charged")
        if charged is not None:
            self.limits.refund(*charged)

    @staticmethod
    def _request_id(request: Request) -> str:
        rid: str | None = request.environ.get("almdesk.github.request_id")
        if rid is None:
            rid = request.environ["almdesk.github.request_id"] = uuid.uuid4().hex[:16].upper()
        return rid

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
            call.headers.update(self._standard_headers(request, token, enterprise))
            key = f"token:{token.value}" if token else f"ip:{request.remote_addr}"
            if path == "/rate_limit":
                return self._finish(repos.rate_limit(call, self.limits, key), call)
            resource = "search" if path.startswith("/search/") else "core"
            limit_headers, over = self.limits.charge(key, token is not None, resource)
            if not over:
                request.environ["almdesk.github.charged"] = (key, resource)
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
                return self._finish(handler(call, **args), call)
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

    def _standard_headers(self, request: Request, token: Token | None, enterprise: bool) -> dict[str, str]:
        headers = self.standard_headers(request)
        if token is not None and token.scopes is not None:
            headers["X-OAuth-Scopes"] = ", ".join(token.scopes)
        if enterprise:
            headers["X-GitHub-Enterprise-Version"] = repos.ENTERPRISE_VERSION
        return headers

    def _route(self, method: str, path: str) -> tuple[Handler, dict[str, Any]]:
        try:
            handler, values = self.router.match(path, method)
        except (NotFound, MethodNotAllowed):
            raise HttpError(404, "Not Found") from None
        return handler, values

    def _web_route(self, call: Call) -> Response | None:
        try:
            page, values = self.web.match(call.path, call.request.method)
        except (NotFound, MethodNotAllowed):
            return None
        if self.world.user(values["owner"]) is None:
            return None
        response: Response = page(call, **values)
        return response

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
