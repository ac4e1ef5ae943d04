"""Re-authentication: with a 2-second idle timeout a long job keeps working, signing in once per expiry.

The sandbox's sessions run on a :class:`~tests.clock.ManualClock`: a test expires them by advancing it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from almdesk.base.records import ItemDraft
from almdesk.jobs.context import JobContext
from almdesk.net.session import HttpFactory
from almdesk.sandbox.base import SandboxServer
from almdesk.systems.octane import SYSTEM
from almdesk.systems.octane.client import OctaneClient
from almdesk.systems.octane.fields import site
from tests.clock import ManualClock
from tests.octane.conftest import app_of, connection_for, connector_for


def test_long_job_signs_in_again_exactly_once_per_expiry(make_server: Callable[..., SandboxServer],
                                                         http: HttpFactory, ctx: JobContext) -> None:
    clock = ManualClock()
    server = make_server(idle_timeout=2.0, clock=clock)
    app = app_of(server)
    connector = connector_for(server)
    adapter = SYSTEM.sync_adapter(connection_for(connector, server), http, ctx)
    adapter.page_size = 25
    adapter.prepare()
    assert app.sign_ins == 1
    clock.advance(2.4)  # the session idles out
    items = list(adapter.iter_items())
    assert len(items) == 90
    assert app.sign_ins == 2
    clock.advance(2.4)  # and again
    created = adapter.create_items([ItemDraft("T1", "T1: still signed in", "", 8, [], done=True)])
    assert not isinstance(created[0], Exception)
    assert created[0].done
    assert app.sign_ins == 3
    adapter.close()
    assert app.sign_outs == 1
    assert any("idle time-out" in text for _, text in ctx.lines)


def test_concurrent_requests_after_expiry_sign_in_once(make_server: Callable[..., SandboxServer],
                                                       http: HttpFactory) -> None:
    clock = ManualClock()
    server = make_server(idle_timeout=1.0, clock=clock)
    app = app_of(server)
    info = site(connector_for(server))
    client = OctaneClient(info.server, info.shared_space, info.client_id, info.client_secret, http)
    assert client.count("1002", "defects") == 90
    clock.advance(1.3)
    counts: list[int] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            counts.append(client.count("1002", "defects"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert counts == [90] * 6
    assert app.sign_ins == 2
    assert client.reauths == 1
    client.close()


def test_second_401_after_reauth_is_an_auth_error(make_server: Callable[..., SandboxServer],
                                                  http: HttpFactory) -> None:
    server = make_server(global_timeout=0.0)  # every session is born expired
    info = site(connector_for(server))
    client = OctaneClient(info.server, info.shared_space, info.client_id, info.client_secret, http)
    try:
        client.count("1002", "defects")
    except Exception as exc:
        assert "right after signing in again" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("expected an AuthError")
    assert app_of(server).sign_ins == 2  # the first sign-in and exactly one retry
    client.close()


def test_renewed_cookies_are_resent_without_signing_in_again(make_server: Callable[..., SandboxServer],
                                                            http: HttpFactory) -> None:
    server = make_server(renew_after=0.0, renew_grace=0.0)  # every answer renews; old values die at once
    info = site(connector_for(server))
    client = OctaneClient(info.server, info.shared_space, info.client_id, info.client_secret, http)
    for _ in range(5):
        assert client.count("1002", "defects") == 90
    assert app_of(server).sign_ins == 1 and client.reauths == 0
    client.close()
