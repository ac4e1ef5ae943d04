"""One API client for every system: a base URL, JSON in and out, labels, hooks and paging helpers.

:class:`ApiClient` sits between a system's client (GitHub, SD Elements, ALM Octane, Rally, Jira) and
the session the :class:`~almdesk.net.session.HttpFactory` builds (timeouts, urllib3 retries, TLS,
proxies, the trace, the request count). It holds one session scoped to the server's origin and

- joins paths onto the base URL (:meth:`ApiClient.url`); an absolute URL (a next-page link, a
  ``_ref``) is taken as it is, and the session refuses it when it is on another origin
  (:class:`~almdesk.net.session.CrossOriginError`): the one origin rule, for every system;
- sends JSON with ``Content-Type: application/json`` and asks for ``Accept`` (JSON unless told);
- names the server (``label``) in transport failures and ``what`` is being done in the system's own;
- calls a pacing hook before a request sent with ``pace=True`` (GitHub's write limiter; :class:`Pacer`);
- turns a failed answer into the system's error through its ``errors`` hook (each system keeps its
  own translation of its error bodies) and a good one into JSON
  (:func:`~almdesk.net.bodies.json_body`: an HTML page or broken JSON named as such).

Paging helpers walk the shapes the systems use, all driven by a ``fetch`` the system writes (one
request, read into a :class:`Page`): :func:`offset_pages` (offset/limit with a total: Octane
``total_count``, Rally ``StartIndex``/``TotalResultCount``, Jira ``startAt``/``total`` or ``isLast``) and
:func:`cursor_pages` (whatever the last page names: Jira's ``nextPageToken``, GitHub's
``Link: rel="next"`` via :func:`link_next`, the ``next`` URL of a Django REST framework page).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import requests

from almdesk.errors import RemoteError
from almdesk.net.bodies import json_body
from almdesk.net.session import AlmSession, HttpFactory, send

T = TypeVar("T")
JSON = "application/json"
ErrorHook = Callable[[requests.Response, str], Exception]


def _no_check() -> None:
    return None


class ApiClient:
    """One session to one API of one server (see the module docstring).

    ``base`` is the API's root ("https://host/api/v2/"); ``origin`` the server the credentials are for
    (default: ``base``). ``label`` names the server in messages ("Jira", "SD Elements at host").
    ``retries`` overrides the factory's urllib3 retries (0 for clients that retry themselves and say so
    in the job log). ``errors(response, what)`` is the exception for a failed answer. ``pace()`` runs
    before a request sent with ``pace=True``. Transport failures pinned on the ``url`` field are pinned
    on ``url_field`` instead (the system's URL setting).
    """

    def __init__(self, http: HttpFactory, base: str, *, label: str, origin: str = "", retries: int | None = None,
                 accept: str = JSON, headers: Mapping[str, str] | None = None, errors: ErrorHook | None = None,
                 pace: Callable[[], object] | None = None, url_field: str = "url") -> None:
        self.http = http
        self.base = base
        self.label = label
        self.session: AlmSession = http.session(retries=retries, origin=origin or base)
        self.session.headers["Accept"] = accept
        self.session.headers.update(headers or {})
        self.errors = errors
        self.pace = pace
        self.url_field = url_field
        self.sent = 0  # requests this client sent (retries the session makes itself not counted)
        self._sent_lock = threading.Lock()  # requests go out together from the sync's overlapped writes

    def url(self, path_or_url: str) -> str:
        """``path_or_url`` on the base URL; an absolute URL as it is (the session checks its origin)."""
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        if self.base.endswith("/"):
            return self.base + path_or_url.lstrip("/")
        return self.base + path_or_url if path_or_url.startswith("/") else f"{self.base}/{path_or_url}"

    def set_credential(self, header: str, value: str) -> None:
        """Send ``header: value`` to this client's origin only (never on a redirect elsewhere)."""
        self.session.set_credential(header, value)

    def send(self, method: str, path: str, *, what: str = "", params: Mapping[str, Any] | None = None,
             json: Any = None, headers: Mapping[str, str | None] | None = None, pace: bool = False,
             **kwargs: Any) -> requests.Response:
        """One request (``json`` None: no body); any status is returned, transport failures raise
        :class:`~almdesk.errors.RemoteError` naming ``what`` (default: the label)."""
        if pace and self.pace is not None:
            self.pace()
        sent_headers: dict[str, str | None] = dict(headers or {})
        if json is not None:
            kwargs["json"] = json
            sent_headers.setdefault("Content-Type", JSON)
        if sent_headers:
            kwargs["headers"] = sent_headers
        with self._sent_lock:
            self.sent += 1
        try:
            return send(self.session, method, self.url(path), what=what or self.label, params=params, **kwargs)
        except RemoteError as exc:
            if exc.field == "url" and self.url_field != "url":
                exc.field = self.url_field
            raise

    def decode(self, response: requests.Response, label: str = "") -> Any:
        """The JSON body of an answer (None when empty), or the error saying what came instead."""
        return json_body(response, label or self.label)

    def error(self, response: requests.Response, what: str) -> Exception:
        """The system's exception for a failed answer to ``what``."""
        if self.errors is not None:
            return self.errors(response, what)
        return RemoteError(f"{self.label} answered HTTP {response.status_code} to {what}.",
                           "The server is failing or refused the request; try again later.",
                           status=response.status_code)

    def check(self, response: requests.Response, what: str, ok: Collection[int] = (200,), *,
              errors: Callable[[requests.Response], Exception] | None = None) -> Any:
        """The JSON body of ``response`` (None for 204 or an empty body) when its status is in ``ok``;
        else raise the system's error (``errors`` overrides the hook for this call)."""
        if response.status_code not in ok:
            raise errors(response) if errors is not None else self.error(response, what)
        if response.status_code == 204 or not response.content:
            return None
        return self.decode(response)

    def call(self, method: str, path: str, *, what: str, ok: Collection[int] = (200,),
             errors: Callable[[requests.Response], Exception] | None = None, **kwargs: Any) -> Any:
        """:meth:`send`, then :meth:`check`."""
        return self.check(self.send(method, path, what=what, **kwargs), what, ok, errors=errors)

    def close(self) -> None:
        self.session.close()


# ---------------------------------------------------------------------------------------------
# Paging


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing as the system's ``fetch`` read it.

    ``total``: items in the whole listing (offset paging); ``last``: the server says no page follows
    (Jira's ``isLast``), or the caller has enough; ``next``: what asks for the next page (a token or a
    URL; cursor paging).
    """

    items: list[T]
    total: int | None = None
    last: bool = False
    next: str | None = None


def offset_pages(fetch: Callable[[int, int], Page[T]], size: int, *, start: int = 0,
                 check: Callable[[], None] = _no_check) -> Iterator[list[T]]:
    """Every page of an offset-paged listing, one after another: ``fetch(offset, size)`` from ``start``
    (Rally counts from 1), the offset moving by what each page held (a server that caps its pages
    lower is followed), until a page is empty or last, or the ``total`` is read."""
    offset = start
    while True:
        check()
        page = fetch(offset, size)
        yield page.items
        offset += len(page.items)
        if not page.items or page.last or (page.total is not None and offset - start >= page.total):
            return


def cursor_pages(fetch: Callable[[str | None], Page[T]], *,
                 check: Callable[[], None] = _no_check) -> Iterator[list[T]]:
    """Every page of a listing where each page names the next (``Page.next``): ``fetch(None)`` for the
    first, then ``fetch(next)`` until a page names none or is last."""
    cursor: str | None = None
    while True:
        check()
        page = fetch(cursor)
        yield page.items
        if page.last or not page.next:
            return
        cursor = page.next


def link_next(response: requests.Response) -> str | None:
    """The URL of ``Link: <…>; rel="next"`` (GitHub), or None on the last page."""
    url = response.links.get("next", {}).get("url")
    return str(url) if url else None


class Pacer:
    """Keeps at least ``interval`` seconds between calls to :meth:`wait` (thread-safe)."""

    def __init__(self, interval: float, sleep: Callable[[float], None] = time.sleep) -> None:
        self.interval = interval
        self._next = 0.0
        self._lock = threading.Lock()
        self._sleep = sleep

    def wait(self) -> float:
        with self._lock:
            now = time.monotonic()
            delay = max(0.0, self._next - now)
            self._next = max(now, self._next) + self.interval
        if delay:
            self._sleep(delay)
        return delay
