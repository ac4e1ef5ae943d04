"""Request plumbing of the GitHub sandbox: the per-request context, JSON bodies, errors and paging."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from werkzeug.wrappers import Response

from almdesk.sandbox.base import RequestContext, json_response
from almdesk.sandbox.github import render
from almdesk.sandbox.github.model import Repo, Token, World

MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 30


class HttpError(Exception):
    """Ends a handler with an error response (GitHub's ``basic-error`` or ``validation-error`` body)."""

    def __init__(self, status: int, message: str, body: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body or render.error(message)


def not_found() -> HttpError:
    return HttpError(404, "Not Found")


def invalid(resource: str, field_name: str, code: str = "invalid", message: str | None = None) -> HttpError:
    return HttpError(422, "Validation Failed", render.validation_error(resource, field_name, code, message))


@dataclass
class Call(RequestContext):
    """One request as a handler sees it."""

    world: World
    path: str  # without the /api/v3 prefix
    api: str  # API base URL of this request
    web: str  # browser base URL
    token: Token | None
    headers: dict[str, str] = field(default_factory=dict)  # extra response headers
    memo: dict[int, dict[int, tuple[int, int]]] = field(default_factory=dict)  # milestone counts, per request

    @property
    def login(self) -> str | None:
        return self.token.login if self.token else None

    def json(self) -> Any:
        try:
            body = self.raw_json()
        except ValueError:
            raise HttpError(400, "Problems parsing JSON") from None
        return {} if body is None else body

    def json_object(self) -> dict[str, Any]:
        body = self.json()
        if not isinstance(body, dict):
            raise HttpError(400, "Problems parsing JSON")
        return body

    def repo(self, owner: str, name: str) -> tuple[Repo, str]:
        """The repository and the caller's role; 404 when it does not exist or cannot be seen."""
        repo = self.world.repo(owner, name)
        role = self.world.role(repo, self.token) if repo else None
        if repo is None or role is None:
            raise not_found()
        self.headers["X-Accepted-OAuth-Scopes"] = "repo"
        return repo, role

    def writable(self, repo: Repo) -> None:
        """Checks every write into ``repo`` needs: a token, one allowed to write, an active repo."""
        if self.token is None:
            raise HttpError(401, "Requires authentication")
        if repo.archived:
            raise HttpError(403, "Repository was archived so is read-only.")
        if not self.world.can_write_issues(repo, self.token):
            raise HttpError(403, "Resource not accessible by personal access token")

    def page(self, items: list[Any]) -> list[Any]:
        """The requested page of ``items``; sets the ``Link`` header like GitHub does."""
        try:
            per_page = int(self.arg("per_page") or DEFAULT_PER_PAGE)
        except ValueError:
            per_page = DEFAULT_PER_PAGE
        per_page = min(max(per_page, 1), MAX_PER_PAGE)
        try:
            number = max(int(self.arg("page") or 1), 1)
        except ValueError:
            number = 1
        last = max(1, -(-len(items) // per_page))
        links = []
        if number < last:
            links += [(number + 1, "next"), (last, "last")]
        if number > 1:
            links = [(number - 1, "prev"), (1, "first"), *links]
        if links:
            self.headers["Link"] = ", ".join(f'<{self._page_url(n, per_page)}>; rel="{rel}"' for n, rel in links)
        start = (number - 1) * per_page
        return items[start:start + per_page]

    def _page_url(self, number: int, per_page: int) -> str:
        query = [(k, v) for k, v in self.request.args.items(multi=True) if k not in ("page", "per_page")]
        query += [("per_page", str(per_page)), ("page", str(number))]
        return f"{self.api}{self.path}?{urlencode(query)}"


def reply(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return json_response(body, status, headers)
