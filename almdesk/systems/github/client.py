"""A small GitHub REST client on almdesk's session factory: auth, retries, rate limits, paging, paced writes.

Retries are done here rather than in urllib3 so each wait is said in the job log: transport
failures and 5xx of idempotent requests are retried three times with back-off; 429 and 503 (not
processed) are retried for every method; a rate-limited answer (403/429) waits what GitHub asks
(``retry-after``, ``x-ratelimit-reset``, or a minute doubling) up to ``max_wait``, then fails with
the time the limit resets. Content-creating requests go through a :class:`WriteLimiter`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import requests

from almdesk.base.settings import ConnectorSettings
from almdesk.base.shapes import listing
from almdesk.errors import RemoteError, UserFacingError
from almdesk.net.api import ApiClient, Page, cursor_pages, link_next
from almdesk.net.session import HttpFactory
from almdesk.systems.github.errors import error_for
from almdesk.systems.github.fields import DEFAULT_PACE_MS, GITHUB_API, TOKEN, normalize_api_url
from almdesk.systems.github.ratelimit import LimitWait, WriteLimiter, limit_wait

API_VERSION = "2022-11-28"
PER_PAGE = 100  # GitHub's maximum page size
TRANSPORT_RETRIES = 3
SERVER_RETRIES = 3
# what to change, by LimitWait.kind, after "Try again after that time, or use another token."
LIMIT_HINTS = {
    "search": "Gates count with GitHub's search, whose budget of 30 searches a minute is shared by every job "
              "using this token.",
    "primary": "The token's budget of requests an hour (5,000 with a personal token on GitHub.com) is shared by "
               "every job and tool using it.",
    "": "Pausing longer between writes (connector setting) avoids the secondary limit.",
}
RATE_LIMIT_WAITS = 6  # limited answers in a row to one request before giving up
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "PATCH"})


def api_url(connector: ConnectorSettings) -> str:
    return normalize_api_url(str(connector.params.get("url") or GITHUB_API))


class RateLimited(RemoteError):
    """GitHub's rate limit would need a longer wait than this job may take."""


class GitHubClient:
    """One session to one GitHub API for one job (or one Test Connection)."""

    def __init__(self, connector: ConnectorSettings, http: HttpFactory, *,
                 log: Callable[[str], None] | None = None, sleep: Callable[[float], None] = time.sleep,
                 max_wait: float = 900.0) -> None:
        self.api = api_url(connector)
        self.server = "GitHub" if self.api == GITHUB_API else f"GitHub at {urlsplit(self.api).netloc}"
        token = connector.secret(TOKEN).strip()
        http.add_secrets([token])
        self.has_token = bool(token)
        self.log = log or (lambda message: None)
        self.sleep = sleep
        self.max_wait = max_wait
        pace = connector.params.get("github_write_pace_ms")
        self.limiter = WriteLimiter((DEFAULT_PACE_MS if pace is None else int(pace)) / 1000.0, sleep=sleep,
                                    log=self.log)
        self.net = ApiClient(http, self.api, label=self.server, retries=0, accept="application/vnd.github+json",
                             headers={"X-GitHub-Api-Version": API_VERSION}, errors=error_for,
                             pace=self.limiter.wait)
        self.session = self.net.session
        if token:
            self.net.set_credential("Authorization", f"Bearer {token}")
        self.rate_waits: list[LimitWait] = []  # every wait of this client, for the job's figures

    # --- requests --------------------------------------------------------------------------
    def request(self, method: str, path: str, *, what: str, params: Mapping[str, Any] | None = None,
                body: Any = None, write: bool = False, retry_transport: bool | None = None,
                anonymous: bool = False, idempotent: bool | None = None) -> requests.Response:
        """Send one request, retrying and waiting as the module docstring says; any final status is returned.

        ``idempotent`` overrides the method's nature (a POST that cannot create anything may be retried).
        """
        idempotent = method in IDEMPOTENT if idempotent is None else idempotent
        retry_transport = idempotent if retry_transport is None else retry_transport
        transport = server = limited = 0
        while True:
            try:
                response = self.net.send(method, path, params=params, json=body, pace=write,
                                         # requests drops a None header
                                         headers={"Authorization": None} if anonymous else None)
            except RemoteError as exc:
                if retry_transport and transport < TRANSPORT_RETRIES and transient(exc):
                    transport += 1
                    delay = 0.5 * 2 ** (transport - 1)
                    self.log(f"{exc.message.rstrip('.')} while {what}; retrying in {delay:.1f} s "
                             f"({transport} of {TRANSPORT_RETRIES}).")
                    self.sleep(delay)
                    continue
                raise
            wait = limit_wait(response, limited)
            if wait is not None:
                self._wait_for_limit(wait, limited, what)
                limited += 1
                continue
            status = response.status_code
            if status >= 500 and (idempotent or status == 503) and server < SERVER_RETRIES:
                server += 1
                after = response.headers.get("retry-after", "")
                delay = min(float(after), 60.0) if after.isdigit() else 0.5 * 2 ** (server - 1)
                self.log(f"{self.server} answered HTTP {status} while {what}; retrying in {delay:.1f} s "
                         f"({server} of {SERVER_RETRIES}).")
                self.sleep(delay)
                continue
            return response

    def _wait_for_limit(self, wait: LimitWait, earlier: int, what: str) -> None:
        """Sleep out a limited answer (``earlier``: limited answers to this same request so far)."""
        if wait.seconds > self.max_wait or earlier >= RATE_LIMIT_WAITS:
            until = time.strftime("%H:%M", time.localtime(time.time() + wait.seconds))
            hint = "Try again after that time, or use another token. " + LIMIT_HINTS.get(wait.kind, LIMIT_HINTS[""])
            raise RateLimited(f"{wait.reason} while {what}; it asks to wait "
                              f"{wait.seconds:.0f} s (until about {until}).", hint)
        self.rate_waits.append(wait)
        self.log(wait.describe(what))
        self.sleep(wait.seconds)

    def call(self, method: str, path: str, *, what: str, params: Mapping[str, Any] | None = None,
             body: Any = None, write: bool = False, ok: tuple[int, ...] = (200, 201),
             not_found: UserFacingError | None = None, repo: str = "") -> Any:
        """Send, check the status (raising the mapped error) and return the JSON body."""
        response = self.request(method, path, what=what, params=params, body=body, write=write)
        if response.status_code not in ok:
            raise error_for(response, what, not_found=not_found, repo=repo)
        return self.net.decode(response)

    def get(self, path: str, *, what: str, params: Mapping[str, Any] | None = None,
            not_found: UserFacingError | None = None, repo: str = "") -> Any:
        return self.call("GET", path, what=what, params=params, not_found=not_found, repo=repo)

    def pages(self, path: str, *, what: str, params: Mapping[str, Any] | None = None,
              not_found: UserFacingError | None = None, repo: str = "") -> Iterator[list[Any]]:
        """Every page of a list, following ``Link: rel="next"`` (``per_page`` is GitHub's maximum)."""
        query = {"per_page": PER_PAGE, **(params or {})}

        def fetch(url: str | None) -> Page[Any]:
            response = self.request("GET", url or path, what=what, params=None if url else query)
            if response.status_code != 200:
                raise error_for(response, what, not_found=not_found, repo=repo)
            items = listing(self.net.decode(response), None, server=self.server, what=f"items ({what})")
            return Page(items, next=link_next(response))

        yield from cursor_pages(fetch)

    def close(self) -> None:
        self.net.close()


def transient(exc: RemoteError) -> bool:
    """A transport failure worth retrying: a reset or a timeout (not DNS, refused, TLS or proxy)."""
    cause = exc.__context__
    if isinstance(cause, requests.exceptions.SSLError | requests.exceptions.ProxyError):
        return False
    if isinstance(cause, requests.exceptions.ReadTimeout):
        return True
    if isinstance(cause, requests.exceptions.ConnectionError):
        low = exc.message.lower()
        return not ("refused" in low or "cannot be found" in low)
    return False
