"""Fixtures for the network tests: a test PKI, TLS and plain sandboxes on loopback, silent and closed
ports, and a real ``tinyproxy`` started on a free port.

Nothing here contacts an address other than 127.0.0.1 / localhost.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from werkzeug import Request, Response

from almdesk.sandbox.base import SandboxApp, SandboxServer, json_response, serve

from .pki import Issued, Pki


class EchoApp(SandboxApp):
    """Answers every request with a small JSON body and remembers the ``Via`` header it saw."""

    system = "echo"

    def __init__(self) -> None:
        super().__init__()
        self.via: list[str] = []

    def dispatch(self, request: Request) -> Response:
        self.via.append(request.headers.get("Via", ""))
        return json_response({"ok": True, "path": request.path})

    def describe(self, base_url: str) -> dict[str, object]:
        return {"system": self.system, "url": base_url, "params": {}, "secrets": {}, "connection_params": {}}


@dataclass
class Site:
    """A running sandbox: ``url`` uses the host name ``localhost`` (what the certificates name)."""

    server: SandboxServer
    app: EchoApp
    url: str
    port: int


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return Pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def other_pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    """A second CA nobody trusts."""
    return Pki(tmp_path_factory.mktemp("pki2"), "Unknown Corp Issuing CA")


@pytest.fixture(scope="session")
def certs(pki: Pki, other_pki: Pki) -> dict[str, Issued]:
    return {
        "good": pki.issue("good"),
        "self_signed": pki.issue("self_signed", self_signed=True),
        "expired": pki.issue("expired", days_valid=(-60, -3)),
        "wrong_host": pki.issue("wrong_host", ("other.example", "www.other.example")),
        "untrusted": other_pki.issue("untrusted"),
        "expiring": pki.issue("expiring", days_valid=(-300, 10)),
    }


@pytest.fixture(scope="session")
def start_site() -> Iterator[Callable[..., Site]]:
    """Start (once per test session) a sandbox with ``issued`` as its certificate, or plain HTTP."""
    running: dict[tuple[str, str], Site] = {}

    def start(issued: Issued | None = None, *, chain_file: Path | None = None) -> Site:
        key = (str(issued.cert_path) if issued else "", str(chain_file or ""))
        if key in running:
            return running[key]
        ctx = None
        if issued is not None:
            ctx = issued.server_context()
            if chain_file is not None:
                ctx.load_cert_chain(chain_file, issued.key_path)
        app = EchoApp()
        server = serve(app, host="127.0.0.1", ssl_context=ctx)
        scheme = "https" if issued is not None else "http"
        running[key] = Site(server, app, f"{scheme}://localhost:{server.port}", server.port)
        return running[key]

    yield start
    stoppers = [threading.Thread(target=site.server.stop) for site in running.values()]
    for t in stoppers:
        t.start()
    for t in stoppers:
        t.join()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (connections are refused)."""
    return free_port()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts TCP (the kernel completes it) but never reads or answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        yield int(s.getsockname()[1])


@pytest.fixture
def full_backlog_port() -> Iterator[int]:
    """A port whose accept queue is full: new TCP connections get no answer (connect times out)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = int(listener.getsockname()[1])
    held: list[socket.socket] = []
    for _ in range(16):
        c = socket.socket()
        c.settimeout(0.3)
        try:
            c.connect(("127.0.0.1", port))
        except OSError:
            c.close()
            break
        held.append(c)
    else:
        pytest.fail("could not fill the accept queue of a loopback listener")
    yield port
    for c in held:
        c.close()
    listener.close()


# ---------------------------------------------------------------------------------------------
# tinyproxy


@dataclass
class Tinyproxy:
    url: str
    port: int
    log_path: Path
    process: subprocess.Popen[bytes]
    offset: int = field(default=0)

    def mark(self) -> None:
        """Forget what the log holds so far; :meth:`new_log` then returns only later lines."""
        self.offset = self.log_path.stat().st_size if self.log_path.exists() else 0

    def new_log(self) -> str:
        if not self.log_path.exists():
            return ""
        with self.log_path.open("rb") as fh:
            fh.seek(self.offset)
            return fh.read().decode("utf-8", "replace")


def _wait_listening(port: int, process: subprocess.Popen[bytes], out: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"tinyproxy exited with {process.returncode}: {out.read_text(errors='replace')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:  # tinyproxy is another process and signals nothing when it listens: poll its port
            time.sleep(0.05)
    pytest.fail("tinyproxy did not start listening within 10 s")


@pytest.fixture
def start_tinyproxy(tmp_path: Path) -> Iterator[Callable[..., Tinyproxy]]:
    binary = shutil.which("tinyproxy") or ("/usr/bin/tinyproxy" if os.path.exists("/usr/bin/tinyproxy") else None)
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("tinyproxy is not installed, and CI must run the proxy tests (apt-get install tinyproxy)")
        pytest.skip("tinyproxy is not installed (apt-get install tinyproxy); CI runs these tests")
    started: list[subprocess.Popen[bytes]] = []

    def start(*, basic_auth: tuple[str, str] | None = None) -> Tinyproxy:
        port = free_port()
        name = f"tinyproxy-{port}"
        log_path = tmp_path / f"{name}.log"
        lines = [f"Port {port}", "Listen 127.0.0.1", "Timeout 30", f'LogFile "{log_path}"', "LogLevel Info",
                 f'PidFile "{tmp_path / (name + ".pid")}"', "MaxClients 20", "Allow 127.0.0.1",
                 'ViaProxyName "tinyproxy"']
        if basic_auth:
            lines.append(f"BasicAuth {basic_auth[0]} {basic_auth[1]}")
        conf = tmp_path / f"{name}.conf"
        conf.write_text("\n".join(lines) + "\n")
        out = tmp_path / f"{name}.out"
        with out.open("wb") as fh:
            process = subprocess.Popen([binary, "-d", "-c", str(conf)], stdout=fh, stderr=subprocess.STDOUT)
        started.append(process)
        _wait_listening(port, process, out)
        return Tinyproxy(f"http://127.0.0.1:{port}", port, log_path, process)

    yield start
    for process in started:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
