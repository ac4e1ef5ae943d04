"""No answer can exhaust memory or time: hostile loopback servers send endless, huge, compressed-bomb
and dripping bodies; almdesk stops at the connector's limits with a message naming the server and
the limit, and what it holds meanwhile stays small (Python allocations measured with tracemalloc).
"""

from __future__ import annotations

import itertools
import socket
import socketserver
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator

import pytest

from almdesk.base.settings import ConnectorSettings, NetworkSettings
from almdesk.errors import CancelledError
from almdesk.jobs.context import JobContext
from almdesk.net.caps import AnswerTooLarge
from almdesk.net.session import HttpFactory, send
from almdesk.sandbox import create
from almdesk.services.actions import run_steps
from almdesk.systems.registry import Registry

MiB = 2**20
BOMB_INFLATED = 1024 * MiB  # what each compression bomb inflates to


SEGMENT = 64 * MiB  # compressed once, repeated to BOMB_INFLATED


def _gzip_bomb() -> bytes:
    """BOMB_INFLATED zeros as one gzip member of SEGMENT repeated (gzip allows many members)."""
    member = zlib.compress(bytes(SEGMENT), 6, wbits=31)
    return member * (BOMB_INFLATED // SEGMENT)


def _deflate_bomb() -> bytes:
    """BOMB_INFLATED zeros as a zlib stream: a full-flushed segment (no reference to what came
    before) repeated; its end never comes, as a cut or hostile stream's would not."""
    comp = zlib.compressobj(6, zlib.DEFLATED, 15)
    head_and_segment = comp.compress(bytes(SEGMENT)) + comp.flush(zlib.Z_FULL_FLUSH)
    header, segment = head_and_segment[:2], head_and_segment[2:]
    return header + segment * (BOMB_INFLATED // SEGMENT)


@pytest.fixture(scope="module")
def bombs() -> dict[str, bytes]:
    return {"gzip": _gzip_bomb(), "deflate": _deflate_bomb()}


Answer = Callable[[socket.socket, threading.Event], None]  # (the connection, set when the server stops)


class Hostile:
    """A raw loopback HTTP server whose every answer is written by ``answer``; an answer that waits
    waits on the stop event, so stopping the server ends it."""

    def __init__(self, answer: Answer) -> None:
        outer = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                self.request.recv(65536)  # the request head (and a small body)
                try:
                    outer.answer(self.request, outer.stopped)
                except OSError:  # the client hung up: what a capped read does
                    pass

        self.answer = answer
        self.stopped = threading.Event()
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.stopped.set()
        self.server.shutdown()
        self.server.server_close()


def head(extra: str = "", status: str = "200 OK") -> bytes:
    return f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n{extra}\r\n".encode()


def endless_chunks(sock: socket.socket, stop: threading.Event) -> None:
    sock.sendall(head("Transfer-Encoding: chunked\r\n"))
    chunk = b"%x\r\n%s\r\n" % (MiB, b"[" * MiB)
    while not stop.is_set():
        sock.sendall(chunk)


def huge_length(sock: socket.socket, stop: threading.Event) -> None:
    sock.sendall(head(f"Content-Length: {1024 * MiB}\r\n") + b'{"issues": [')
    stop.wait(30)  # the server "would" go on; the client must not wait for it


def until_close(sock: socket.socket, stop: threading.Event) -> None:
    """No length at all: 12 MiB, then the connection closes (the body ends at EOF)."""
    sock.sendall(head("Connection: close\r\n") + b"x" * (12 * MiB))


def compressed(encoding: str, data: bytes) -> Answer:
    def answer(sock: socket.socket, stop: threading.Event) -> None:
        sock.sendall(head(f"Content-Encoding: {encoding}\r\nContent-Length: {len(data)}\r\n") + data)
    return answer


def drip(sock: socket.socket, stop: threading.Event) -> None:
    sock.sendall(head("Content-Length: 100000\r\n"))
    for _ in range(100000):
        sock.sendall(b" ")
        if stop.wait(0.01):  # the server's pace (the client's clock decides); ends when the server stops
            return


class TickClock:
    """An injected clock that advances one second each time it is read."""

    def __init__(self) -> None:
        self.now = itertools.count()

    def __call__(self) -> float:
        return float(next(self.now))


@pytest.fixture
def hostile() -> Iterator[Callable[[Answer], Hostile]]:
    servers: list[Hostile] = []

    def start(answer: Answer) -> Hostile:
        servers.append(Hostile(answer))
        return servers[-1]

    yield start
    for s in servers:
        s.stop()


def fetch(url: str, network: NetworkSettings, clock: Callable[[], float] = time.monotonic) -> tuple[str, int]:
    """GET ``url`` through almdesk's session; (the error message, tracemalloc's peak bytes)."""
    tracemalloc.start()
    try:
        with pytest.raises(AnswerTooLarge) as exc:
            send(HttpFactory(network, retries=0, clock=clock).session(), "GET", url + "/rest/api/3/search",
                 what="the hostile server")
        return exc.value.message + " " + exc.value.hint, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


SMALL = NetworkSettings(max_answer_mb=8, timeout=5)


@pytest.mark.parametrize("answer", [endless_chunks, until_close], ids=["endless-chunked", "12-MiB-until-close"])
def test_a_body_past_the_limit_is_cut_off(hostile: Callable[[Answer], Hostile], answer: Answer) -> None:
    server = hostile(answer)
    message, peak = fetch(server.url, SMALL)
    assert "grew past 8 MiB" in message and "127.0.0.1" in message and "Largest answer" in message
    assert peak < 40 * MiB, peak


def test_a_huge_content_length_is_refused_before_reading(hostile: Callable[[Answer], Hostile]) -> None:
    server = hostile(huge_length)
    message, peak = fetch(server.url, SMALL)
    assert "announced an answer of 1,024 MiB" in message and "at most 8 MiB" in message
    assert peak < 5 * MiB, peak


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_a_compression_bomb_stops_at_the_inflated_limit(hostile: Callable[[Answer], Hostile],
                                                        bombs: dict[str, bytes], encoding: str) -> None:
    data = bombs[encoding]
    assert len(data) < 3 * MiB  # a few MB on the wire, 1 GiB inflated
    assert len(zlib.decompressobj(31 if encoding == "gzip" else 15).decompress(data[:256 * 1024], 9 * MiB)) > 8 * MiB
    server = hostile(compressed(encoding, data))
    message, peak = fetch(server.url, SMALL)
    assert "after decompression" in message
    assert peak < 60 * MiB, peak


def test_a_slow_drip_ends_at_the_request_deadline(hostile: Callable[[Answer], Hostile]) -> None:
    server = hostile(drip)
    clock = TickClock()
    message, _ = fetch(server.url, NetworkSettings(request_deadline=20, timeout=5), clock)
    assert "still arriving when the request's time ran out" in message and "Longest request" in message
    assert 20 <= next(clock.now) <= 25  # stopped at the deadline: a few reads past the start, not the 100,000 bytes


def test_an_answer_within_the_limits_is_read_whole(hostile: Callable[[Answer], Hostile],
                                                   bombs: dict[str, bytes]) -> None:
    small = zlib.compress(b'{"ok": true}' + b" " * 5000, wbits=31)
    server = hostile(compressed("gzip", small))
    r = send(HttpFactory(SMALL, retries=0).session(), "GET", server.url + "/x")
    assert r.json() == {"ok": True}


@pytest.mark.parametrize("system", ["octane", "jira", "github", "rally"])
def test_test_connection_names_a_capped_answer(hostile: Callable[[Answer], Hostile], bombs: dict[str, bytes],
                                               system: str) -> None:
    """Each system's Test Connection against a server whose every answer is a gzip bomb: one step
    fails, saying the answer was too large, and nothing else breaks."""
    server = hostile(compressed("gzip", bombs["gzip"]))
    desc = create(system, seed=2).describe(server.url)
    registry = Registry.default()
    sys_obj = registry.get(system)
    connector = ConnectorSettings(f"{system}-bomb", system, sys_obj.check_connector(dict(desc["params"])),
                                  desc["secrets"], NetworkSettings(max_answer_mb=8, timeout=5))
    results = run_steps(sys_obj.test_steps(connector, None, HttpFactory(connector.network, retries=0)),
                        JobContext())
    failed = [r for r in results if r.status == "failed"]
    assert len(failed) == 1 and "8 MiB" in failed[0].detail, [(r.key, r.status, r.detail) for r in results]


def test_a_huge_retry_after_is_capped_and_a_cancel_ends_the_wait(hostile: Callable[[Answer], Hostile]) -> None:
    """429 with ``Retry-After: 86400``: the wait is capped (60 s), and the job's Cancel ends it at once —
    the test cancels on the event of the 429 being sent, never on a timer."""
    answered = threading.Event()

    def too_many(sock: socket.socket, stop: threading.Event) -> None:
        sock.sendall(head("Retry-After: 86400\r\nContent-Length: 2\r\n", "429 Too Many Requests") + b"{}")
        answered.set()

    server = hostile(too_many)
    ctx = JobContext()
    http = HttpFactory(SMALL, retries=2)
    http.cancel = ctx.cancel_event
    threading.Thread(target=lambda: answered.wait(30) and ctx.cancel(), daemon=True).start()
    with pytest.raises(CancelledError):
        send(http.session(), "GET", server.url + "/rest/api/3/search")
    assert http.requests == 0  # the 429 was never handed on: the retry's wait was cut short by the cancel
    retry = http.session().get_adapter(server.url).max_retries
    assert retry.get_retry_after(_FakeResponse({"Retry-After": "86400"})) == 60.0


class _FakeResponse:
    """Just the headers urllib3's Retry reads."""

    def __init__(self, headers: dict[str, str]) -> None:
        self.headers = headers
