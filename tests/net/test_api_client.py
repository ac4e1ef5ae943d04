"""The shared API client (almdesk/net/api.py) against small loopback servers: the paging helpers for
every shape the systems use (offset/limit with a total, 1-based starts, ``isLast``, an empty page, a
server that caps its pages; ``nextPageToken``, ``Link: rel="next"``, DRF ``next``), and the client's
own contract: path joining, JSON in and out with the right headers, the error hook, the ``what``
label and field of a transport failure, and a next-page link to another origin refused before
anything is sent there. Real HTTP on 127.0.0.1, no mocks.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from werkzeug import Request, Response

from almdesk.errors import RemoteError, UserFacingError
from almdesk.net.api import ApiClient, Page, cursor_pages, link_next, offset_pages
from almdesk.net.session import CrossOriginError, HttpFactory
from almdesk.sandbox.base import SandboxApp, SandboxServer, json_response, serve

ITEMS = [{"id": n} for n in range(1, 12)]  # 11 items


@dataclass
class Seen:
    method: str
    path: str
    args: dict[str, str]
    headers: dict[str, str]
    body: bytes


class ListingApp(SandboxApp):
    """Serves ``ITEMS`` in every paging shape the systems use, and records each request.

    ``cap`` caps a page below what was asked (as a server's own maximum does); ``lie_total`` is the
    total the offset shapes announce (a listing that says it holds more than it serves).
    """

    system = "listing"

    def __init__(self, cap: int = 1000, lie_total: int | None = None) -> None:
        super().__init__()
        self.cap = cap
        self.lie_total = lie_total
        self.seen: list[Seen] = []
        self.away = ""  # the next link the GitHub shape puts on its first page when set

    def describe(self, base_url: str) -> dict[str, object]:
        return {"system": self.system, "url": base_url, "params": {}, "secrets": {}, "connection_params": {}}

    def _slice(self, start: int, size: int) -> list[dict[str, int]]:
        return ITEMS[start:start + min(size, self.cap)]

    def dispatch(self, request: Request) -> Response:
        args = dict(request.args.items())
        self.seen.append(Seen(request.method, request.path, args, dict(request.headers), request.get_data()))
        total = len(ITEMS) if self.lie_total is None else self.lie_total
        path = request.path
        if path == "/api/offset":  # Octane: offset/limit, total_count
            return json_response({"data": self._slice(int(args.get("offset", 0)), int(args["limit"])),
                                  "total_count": total})
        if path == "/api/rally":  # Rally: 1-based start, pagesize, TotalResultCount
            page = self._slice(int(args["start"]) - 1, int(args["pagesize"]))
            return json_response({"QueryResult": {"Results": page, "StartIndex": int(args["start"]),
                                                  "PageSize": int(args["pagesize"]), "TotalResultCount": total}})
        if path == "/api/values":  # Jira: startAt/maxResults, isLast/values (no total)
            at, size = int(args["startAt"]), int(args["maxResults"])
            page = self._slice(at, size)
            return json_response({"values": page, "startAt": at, "maxResults": size,
                                  "isLast": at + len(page) >= len(ITEMS)})
        if path == "/api/token":  # Jira Cloud: nextPageToken
            at = int(args.get("nextPageToken", "0"))
            page = self._slice(at, int(args["maxResults"]))
            body: dict[str, Any] = {"issues": page}
            if at + len(page) < len(ITEMS):
                body["nextPageToken"] = str(at + len(page))
            else:
                body["isLast"] = True
            return json_response(body)
        if path == "/api/link":  # GitHub: Link: <…>; rel="next"
            at, size = int(args.get("page", "1")), int(args["per_page"])
            page = ITEMS[(at - 1) * size:at * size]
            nxt = self.away or (f"{self.base_url}/api/link?per_page={size}&page={at + 1}"
                                if at * size < len(ITEMS) else "")
            return json_response(page, headers={"Link": f'<{nxt}>; rel="next"'} if nxt else {})
        if path == "/api/drf/":  # SD Elements: DRF results/next
            at, size = int(args.get("page", "1")), int(args["page_size"])
            page = ITEMS[(at - 1) * size:at * size]
            more = at * size < len(ITEMS)
            return json_response({"results": page, "count": len(ITEMS),
                                  "next": f"{self.base_url}/api/drf/?page={at + 1}&page_size={size}" if more else None})
        if path == "/api/echo":
            return json_response({"got": json.loads(request.get_data() or b"null")}, status=201)
        if path == "/api/empty":
            return Response(status=204)
        if path == "/api/refused":
            return json_response({"message": "nope"}, status=403)
        return json_response({"message": "no such path"}, status=404)


@dataclass
class Running:
    app: ListingApp
    server: SandboxServer
    client: ApiClient
    errors: list[tuple[int, str]] = field(default_factory=list)

    def pages_seen(self, path: str) -> list[dict[str, str]]:
        return [s.args for s in self.app.seen if s.path == path]


@pytest.fixture
def running() -> Iterator[Callable[..., Running]]:
    started: list[Running] = []

    def start(**options: Any) -> Running:
        app = ListingApp(**options)
        server = serve(app)
        run = Running(app, server, ApiClient(HttpFactory(retries=0), server.url + "/api", label="the listing"))
        run.client.errors = lambda response, what: _remember(run, response, what)
        started.append(run)
        return run

    yield start
    for run in started:
        run.client.close()
        run.server.stop()


def _remember(run: Running, response: requests.Response, what: str) -> Exception:
    run.errors.append((response.status_code, what))
    return UserFacingError(f"refused {what} (HTTP {response.status_code})")


def flat(pages: Iterator[list[Any]]) -> list[Any]:
    return [item for page in pages for item in page]


# --- offset paging ---------------------------------------------------------------------------------

def test_offset_pages_read_the_total_and_stop_there(running: Callable[..., Running]) -> None:
    run = running()

    def fetch(offset: int, size: int) -> Page[dict[str, int]]:
        body = run.client.call("GET", "offset", what="reading", params={"offset": offset, "limit": size})
        return Page(body["data"], body["total_count"])

    assert flat(offset_pages(fetch, 4)) == ITEMS
    assert run.pages_seen("/api/offset") == [{"offset": "0", "limit": "4"}, {"offset": "4", "limit": "4"},
                                             {"offset": "8", "limit": "4"}]  # no fourth, empty request


def test_offset_pages_follow_a_server_that_caps_its_pages(running: Callable[..., Running]) -> None:
    run = running(cap=3)

    def fetch(offset: int, size: int) -> Page[dict[str, int]]:
        body = run.client.call("GET", "offset", what="reading", params={"offset": offset, "limit": size})
        return Page(body["data"], body["total_count"])

    assert flat(offset_pages(fetch, 100)) == ITEMS  # asked 100, got 3 a page: nothing skipped
    assert [a["offset"] for a in run.pages_seen("/api/offset")] == ["0", "3", "6", "9"]


def test_offset_pages_count_from_one_like_rally(running: Callable[..., Running]) -> None:
    run = running()

    def fetch(start: int, size: int) -> Page[dict[str, int]]:
        inner = run.client.call("GET", "rally", what="querying", params={"start": start, "pagesize": size})["QueryResult"]
        return Page(inner["Results"], inner["TotalResultCount"])

    assert flat(offset_pages(fetch, 5, start=1)) == ITEMS
    assert [a["start"] for a in run.pages_seen("/api/rally")] == ["1", "6", "11"]


def test_offset_pages_end_on_is_last_without_a_total(running: Callable[..., Running]) -> None:
    run = running()

    def fetch(start: int, size: int) -> Page[dict[str, int]]:
        body = run.client.call("GET", "values", what="listing", params={"startAt": start, "maxResults": size})
        return Page(body["values"], last=body["isLast"])

    assert flat(offset_pages(fetch, 4)) == ITEMS
    assert len(run.pages_seen("/api/values")) == 3


def test_offset_pages_end_on_an_empty_page_whatever_the_total_says(running: Callable[..., Running]) -> None:
    run = running(lie_total=1_000_000)

    def fetch(offset: int, size: int) -> Page[dict[str, int]]:
        body = run.client.call("GET", "offset", what="reading", params={"offset": offset, "limit": size})
        return Page(body["data"], body["total_count"])

    assert flat(offset_pages(fetch, 5)) == ITEMS
    assert [a["offset"] for a in run.pages_seen("/api/offset")] == ["0", "5", "10", "11"]  # the last one empty


def test_offset_pages_check_before_every_page(running: Callable[..., Running]) -> None:
    """The cancel check runs before each request: a cancel between pages sends nothing more."""
    run = running()
    checks: list[int] = []

    def check() -> None:
        checks.append(len(run.app.seen))
        if len(run.app.seen) == 2:
            raise RemoteError("cancelled")

    def fetch(offset: int, size: int) -> Page[dict[str, int]]:
        body = run.client.call("GET", "offset", what="reading", params={"offset": offset, "limit": size})
        return Page(body["data"], body["total_count"])

    with pytest.raises(RemoteError, match="cancelled"):
        flat(offset_pages(fetch, 4, check=check))
    assert checks == [0, 1, 2] and len(run.app.seen) == 2


# --- cursor paging ---------------------------------------------------------------------------------

def test_cursor_pages_follow_next_page_tokens(running: Callable[..., Running]) -> None:
    run = running()

    def fetch(token: str | None) -> Page[dict[str, int]]:
        params: dict[str, Any] = {"maxResults": 4}
        if token:
            params["nextPageToken"] = token
        body = run.client.call("GET", "token", what="searching", params=params)
        return Page(body["issues"], last=body.get("isLast", False), next=body.get("nextPageToken"))

    assert flat(cursor_pages(fetch)) == ITEMS
    assert [a.get("nextPageToken") for a in run.pages_seen("/api/token")] == [None, "4", "8"]


def test_cursor_pages_follow_link_rel_next(running: Callable[..., Running]) -> None:
    run = running()

    def fetch(url: str | None) -> Page[dict[str, int]]:
        response = run.client.send("GET", url or "link", params=None if url else {"per_page": 5})
        return Page(run.client.check(response, "listing"), next=link_next(response))

    assert flat(cursor_pages(fetch)) == ITEMS
    assert [a.get("page") for a in run.pages_seen("/api/link")] == [None, "2", "3"]


def test_cursor_pages_follow_a_drf_next_url(running: Callable[..., Running]) -> None:
    run = running()

    def fetch(url: str | None) -> Page[dict[str, int]]:
        body = run.client.call("GET", url or "drf/", what="listing", params=None if url else {"page_size": 4})
        return Page(body["results"], next=body["next"])

    assert flat(cursor_pages(fetch)) == ITEMS
    assert len(run.pages_seen("/api/drf/")) == 3


def test_a_next_link_to_another_origin_is_refused_before_it_is_sent(running: Callable[..., Running]) -> None:
    """A page naming another server's URL as the next one: the client's one origin rule refuses it, and
    the other server receives nothing (nor the credential)."""
    run, other = running(), running()
    run.app.away = f"{other.server.url}/api/link?per_page=5&page=2"
    run.client.set_credential("Authorization", "Bearer tok-secret")

    def fetch(url: str | None) -> Page[dict[str, int]]:
        response = run.client.send("GET", url or "link", params=None if url else {"per_page": 5})
        return Page(run.client.check(response, "listing"), next=link_next(response))

    pages = cursor_pages(fetch)
    assert next(pages) == ITEMS[:5]
    with pytest.raises(CrossOriginError) as refused:
        next(pages)
    assert "another host" in refused.value.message and other.app.seen == []
    assert run.app.seen[0].headers.get("Authorization") == "Bearer tok-secret"


# --- the client ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("base", "path", "url"), [
    ("https://h.example/api", "x/y", "https://h.example/api/x/y"),
    ("https://h.example/api", "/x", "https://h.example/api/x"),
    ("https://h.example/api/v2/", "/x/", "https://h.example/api/v2/x/"),
    ("https://h.example/api/v2/", "x", "https://h.example/api/v2/x"),
    ("https://h.example/api", "https://h.example/other?p=2", "https://h.example/other?p=2"),
])
def test_paths_join_the_base_url(base: str, path: str, url: str) -> None:
    client = ApiClient(HttpFactory(retries=0), base, label="h")
    try:
        assert client.url(path) == url
    finally:
        client.close()


def test_json_goes_out_and_comes_back_with_the_right_headers(running: Callable[..., Running]) -> None:
    run = running()
    assert run.client.call("POST", "echo", what="posting", json={"a": [1, 2]}, ok=(201,)) == {"got": {"a": [1, 2]}}
    assert run.client.call("GET", "empty", what="reading", ok=(204,)) is None
    post, get = run.app.seen
    assert post.headers["Content-Type"] == "application/json" and post.headers["Accept"] == "application/json"
    assert json.loads(post.body) == {"a": [1, 2]}
    assert not get.headers.get("Content-Type") and get.body == b""  # no body: no JSON type claimed
    assert run.client.sent == 2


def test_a_failed_answer_goes_through_the_systems_error_hook(running: Callable[..., Running]) -> None:
    run = running()
    with pytest.raises(UserFacingError, match=r"refused reading the thing \(HTTP 403\)"):
        run.client.call("GET", "refused", what="reading the thing")
    assert run.errors == [(403, "reading the thing")]
    with pytest.raises(UserFacingError, match="special"):  # a call may name its own mapping
        run.client.call("GET", "refused", what="x", errors=lambda response: UserFacingError("special"))


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_transport_failure_names_the_label_or_what_and_the_systems_field() -> None:
    base = f"http://127.0.0.1:{_closed_port()}/api"
    plain = ApiClient(HttpFactory(retries=0), base, label="Acme at 127.0.0.1")
    pinned = ApiClient(HttpFactory(retries=0), base, label="Rally", url_field="alm_server")
    try:
        with pytest.raises(RemoteError) as first:
            plain.send("GET", "x")
        with pytest.raises(RemoteError) as second:
            pinned.send("GET", "x", what="the defect query")
    finally:
        plain.close()
        pinned.close()
    assert first.value.message.startswith("Acme at 127.0.0.1 refused the connection") and first.value.field == "url"
    assert second.value.message.startswith("the defect query refused the connection")
    assert second.value.field == "alm_server"


def test_the_pacing_hook_runs_only_for_paced_requests(running: Callable[..., Running]) -> None:
    run = running()
    paced: list[int] = []
    run.client.pace = lambda: paced.append(len(run.app.seen))
    run.client.send("GET", "empty")
    run.client.send("POST", "echo", json={}, pace=True)
    run.client.send("POST", "echo", json={}, pace=True)
    assert paced == [1, 2]  # each before its own request went out
