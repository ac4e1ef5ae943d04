"""A small SD Elements API v2 client on almdesk's session factory: Token auth, DRF paging, retries.

Every request goes to ``<server>/api/v2/<path>`` with ``Authorization: Token <token>`` and
``Accept: application/json``. Waits are said in the job log and slept through an injected
``sleep``: 429 and 503 are retried for every method after ``Retry-After`` (capped at
``max_wait``), other 5xx and transport failures only for reads and idempotent writes (PATCH,
DELETE). A failed answer becomes a message naming the cause (token, permission, not found, a
sign-in page in front of the server) and the fix.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from requests import Response

from almdesk.base.settings import ConnectorSettings
from almdesk.errors import AuthError, RemoteError, UserFacingError
from almdesk.net.api import ApiClient, Page, cursor_pages
from almdesk.net.bodies import sign_in_page
from almdesk.net.session import HttpFactory
from almdesk.systems.sdelements.fields import TOKEN, TOKEN_HINT, server_root

PAGE_SIZE = 1000  # what the client asks for; a server that caps lower gives more pages (``next`` is followed)
RETRIES = 4
IDEMPOTENT = frozenset({"GET", "HEAD", "PATCH", "PUT", "DELETE"})
HTML_HINT = ("The API answers only an API token, not a browser sign-in. Check that Server URL is the SD Elements "
             "address itself, and ask whoever runs the single sign-on or proxy in front of it to let /api/v2/ "
             "through without a browser sign-in.")


class SdeClient:
    """One session to one SD Elements server for one job (or one Test Connection)."""

    def __init__(self, connector: ConnectorSettings, http: HttpFactory, *,
                 log: Callable[[str], None] | None = None, sleep: Callable[[float], None] = time.sleep,
                 max_wait: float = 120.0) -> None:
        self.root = server_root(str(connector.params.get("url") or ""))
        self.api = self.root + "/api/v2/"
        self.server = f"SD Elements at {urlsplit(self.root).netloc}"
        token = connector.secret(TOKEN).strip()
        http.add_secrets([token])
        self.has_token = bool(token)
        self.net = ApiClient(http, self.api, label=self.server, origin=self.root, retries=0,
                             errors=self.error_for)
        self.session = self.net.session
        if token:
            self.net.set_credential("Authorization", f"Token {token}")
        self.log = log or (lambda message: None)
        self.sleep = sleep
        self.max_wait = max_wait

    @property
    def requests(self) -> int:
        """Requests sent (each retry counted)."""
        return self.net.sent

    def request(self, method: str, path: str, *, what: str, params: Mapping[str, Any] | None = None,
                body: Any = None) -> Response:
        """Send one request with the retries of the module docstring; the final answer is returned."""
        idempotent = method in IDEMPOTENT
        tries = 0
        while True:
            try:
                response = self.net.send(method, path, params=params, json=body)
            except RemoteError as exc:
                if idempotent and tries < RETRIES and _transient(exc):
                    tries += 1
                    self._wait(0.5 * 2 ** (tries - 1), f"{exc.message.rstrip('.')} while {what}", tries)
                    continue
                raise
            status = response.status_code
            retry = status in (429, 503) or (status >= 500 and idempotent)
            if retry and tries < RETRIES:
                tries += 1
                after = response.headers.get("Retry-After", "")
                delay = float(after) if after.strip().isdigit() else 0.5 * 2 ** (tries - 1)
                if delay > self.max_wait:
                    raise RemoteError(f"{self.server} asks to wait {delay:.0f} s (HTTP {status}) while {what}.",
                                      "The server is throttling API requests; try again later.", status=status)
                self._wait(delay, f"{self.server} answered HTTP {status} while {what}", tries)
                continue
            return response

    def _wait(self, delay: float, reason: str, attempt: int) -> None:
        self.log(f"{reason}; retrying in {delay:.1f} s ({attempt} of {RETRIES}).")
        self.sleep(delay)

    def call(self, method: str, path: str, *, what: str, params: Mapping[str, Any] | None = None,
             body: Any = None, ok: tuple[int, ...] = (200, 201, 204),
             not_found: UserFacingError | None = None, permission: str = "") -> Any:
        """Send, check the status (raising the mapped error) and return the JSON body (None for 204)."""
        response = self.request(method, path, what=what, params=params, body=body)
        if response.status_code not in ok:
            raise self.error_for(response, what, not_found=not_found, permission=permission)
        return None if response.status_code == 204 else self.json(response, what)

    def get(self, path: str, *, what: str, params: Mapping[str, Any] | None = None,
            not_found: UserFacingError | None = None) -> Any:
        return self.call("GET", path, what=what, params=params, not_found=not_found)

    def pages(self, path: str, *, what: str, params: Mapping[str, Any] | None = None,
              not_found: UserFacingError | None = None) -> Iterator[list[Any]]:
        """Every page of a DRF list, following ``next`` until it is null."""
        query = {"page_size": PAGE_SIZE, **(params or {})}

        def fetch(url: str | None) -> Page[Any]:
            data = self.get(url or path, what=what, params=None if url else query, not_found=not_found)
            if not isinstance(data, dict) or not isinstance(data.get("results"), list):
                raise RemoteError(f"{self.server} sent something other than a page of results while {what}.",
                                  "Check that Server URL points at SD Elements itself.")
            return Page(data["results"], next=data.get("next") or None)

        yield from cursor_pages(fetch)

    def json(self, response: Response, what: str) -> Any:
        if _is_html(response):
            raise self.html_error(response, what)
        try:
            return response.json()
        except ValueError:
            snippet = " ".join(response.text.split())[:120]
            raise RemoteError(f"{self.server} sent a reply that is not JSON while {what} "
                              f"(HTTP {response.status_code}): {snippet!r}.",
                              "The server or a proxy in between may be failing; try again.") from None

    def html_error(self, response: Response, what: str) -> RemoteError:
        kind = "a sign-in page (single sign-on or a proxy)" if sign_in_page(response.text) else "a web page"
        return RemoteError(f"{self.server} answered with {kind} instead of the API while {what} "
                           f"(HTTP {response.status_code}).", HTML_HINT, field="url")

    def error_for(self, response: Response, what: str, *, not_found: UserFacingError | None = None,
                  permission: str = "") -> UserFacingError:
        status = response.status_code
        if _is_html(response):
            return self.html_error(response, what)
        text = detail(response)
        if status == 401:
            return AuthError(f"{self.server} refused the API token while {what}: {text} (HTTP 401).", TOKEN_HINT,
                             field=TOKEN)
        if status == 403:
            need = f" the project permission '{permission}'" if permission else " the permission for this"
            return AuthError(f"{self.server} refused {what}: {text} (HTTP 403).",
                             f"The token's user lacks{need}; ask an SD Elements admin for a project role that "
                             "has it (Manage Project has them all).", field=TOKEN)
        if status == 404:
            return not_found or RemoteError(f"{self.server} found nothing while {what} (HTTP 404): {text}.",
                                            "Check the project and task ids, and that the token's user can see them.")
        if status == 406:
            return RemoteError(f"{self.server} would not answer JSON while {what} (HTTP 406).",
                               "A proxy in between may be changing the request's Accept header.")
        if status == 429:
            return RemoteError(f"{self.server} kept throttling while {what} (HTTP 429): {text}.",
                               "Too many requests for now; try again in a few minutes.", status=429)
        if status == 400:
            return RemoteError(f"{self.server} did not accept {what}: {text} (HTTP 400).",
                               "This may be a bug in almdesk; send the support bundle.", status=400)
        return RemoteError(f"{self.server} failed while {what} (HTTP {status}): {text}.",
                           "The server is failing or busy; try again later.", status=status)

    def close(self) -> None:
        self.net.close()


def detail(response: Response) -> str:
    """DRF's words for a failed answer on one line: ``detail``, or the field errors flattened."""
    try:
        body: Any = response.json()
    except (ValueError, RecursionError):
        return " ".join(response.text.split())[:200] or response.reason or f"HTTP {response.status_code}"
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        return str(body["detail"])[:300]
    if isinstance(body, dict):
        parts = [f"{k}: {' '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in body.items()]
        return "; ".join(parts)[:300]
    return str(body)[:300]


def _is_html(response: Response) -> bool:
    ctype = response.headers.get("Content-Type", "").lower()
    head = response.text[:200].lstrip().lower() if "json" not in ctype else ""
    return "html" in ctype or head.startswith(("<!doctype", "<html"))


def _transient(exc: RemoteError) -> bool:
    low = exc.message.lower()
    return ("reset" in low or "did not answer in time" in low or "cut off" in low) and "refused" not in low
