"""Test Connection against the sandbox: success, and each failing step with its own message."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import pytest

from almdesk.base.settings import ConnectionSettings, ConnectorSettings
from almdesk.errors import AuthError, ConfigError, RemoteError, UserFacingError
from almdesk.net.session import HttpFactory
from almdesk.sandbox.base import SandboxServer, serve
from almdesk.sandbox.octane import NOACCESS_KEY, READONLY_KEY, create
from almdesk.systems.octane import SYSTEM
from tests.octane.conftest import app_of, connection_for, connector_for, stop_later


def run(connector: ConnectorSettings, connection: ConnectionSettings | None,
        http: HttpFactory) -> tuple[list[tuple[str, str]], UserFacingError | None]:
    """Run the steps like the app does: in order, stopping at the first failure."""
    done: list[tuple[str, str]] = []
    for step in SYSTEM.test_steps(connector, connection, http):
        try:
            done.append((step.key, step.run()))
        except UserFacingError as exc:
            return done, exc
    return done, None


def failing(connector: ConnectorSettings, http: HttpFactory,
            connection: ConnectionSettings | None = None) -> tuple[str, UserFacingError]:
    done, error = run(connector, connection, http)
    assert error is not None, done
    keys = [s.key for s in SYSTEM.test_steps(connector, connection, http)]
    return keys[len(done)], error


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    """One sandbox for the read-only step tests of this module (steps create nothing)."""
    srv = serve(create(seed=5, defects=40, stories=5))
    yield srv
    stop_later(srv)


def test_success_with_connection_and_sign_out(make_server: Callable[..., SandboxServer], http: HttpFactory) -> None:
    server = make_server()
    connector = connector_for(server)
    done, error = run(connector, connection_for(connector, server), http)
    assert error is None
    details = dict(done)
    assert list(details) == ["version", "auth", "shared_space", "workspace", "role", "user", "connection_settings"]
    assert details["version"].startswith("ALM Octane 16.2.100.87")
    assert "warning" not in details["version"]  # loopback http is fine
    assert "3 workspace(s)" in details["shared_space"]
    assert details["workspace"] == "Workspace 1002 'default_workspace' (backlog root 1001)"
    assert details["user"] == "alice@example.com (Alice Adams)"
    assert "Closed" in details["connection_settings"]
    app = app_of(server)
    assert app.sign_ins == 1 and app.sign_outs == 1


def test_without_workspace_lists_workspaces_to_pick(server: SandboxServer, http: HttpFactory) -> None:
    connector = connector_for(server, location=f"{server.url}/ui/?p=1001", workspace="")
    done, error = run(connector, None, http)
    assert error is None
    assert dict(done)["workspace"].startswith("⚠ No workspace chosen yet; pick one of: 1002 default_workspace, "
                                              "1003 Payments, 1004 Mobile App")
    assert SYSTEM.workspaces(connector, http) == [("1002", "default_workspace"), ("1003", "Payments"),
                                                  ("1004", "Mobile App")]


def test_bad_host(http: HttpFactory) -> None:
    connector = ConnectorSettings("c", "octane", SYSTEM.check_connector(
        {"location": "http://octane-nowhere.invalid:8080/ui/?p=1001/1002", "client_id": "k"}),
        {"client_secret": "s"})
    key, error = failing(connector, http)
    assert key == "version"
    assert isinstance(error, RemoteError) and "cannot be found (DNS)" in error.message


def test_refused_port(http: HttpFactory) -> None:
    port = free_port()
    connector = ConnectorSettings("c", "octane", SYSTEM.check_connector(
        {"location": f"http://127.0.0.1:{port}/ui/?p=1001/1002", "client_id": "k"}), {"client_secret": "s"})
    key, error = failing(connector, http)
    assert key == "version"
    assert isinstance(error, RemoteError) and "refused the connection" in error.message


def test_not_octane_at_that_address(server: SandboxServer, http: HttpFactory) -> None:
    connector = connector_for(server, location=f"{server.url}/wrongctx/ui/?p=1001/1002")
    key, error = failing(connector, http)
    assert key == "version"
    assert error.message.startswith(f"No ALM Octane at {server.url}/wrongctx") and error.field == "location"


def test_wrong_secret(server: SandboxServer, http: HttpFactory) -> None:
    key, error = failing(connector_for(server, secret="not-the-secret"), http)
    assert key == "auth"
    assert isinstance(error, AuthError) and error.field == "client_secret"
    assert "refused Client ID 'almdesk_ci_7k2p9' and its secret (HTTP 401)" in error.message
    assert "not-the-secret" not in str(error)


def test_unknown_shared_space(server: SandboxServer, http: HttpFactory) -> None:
    key, error = failing(connector_for(server, location=f"{server.url}/ui/?p=1002/1002", shared_space=""), http)
    assert key == "shared_space"
    assert error.message == "shared space 1002 not found — check the number after p= in the Location."
    assert isinstance(error, ConfigError)


def test_shared_space_of_another_key(server: SandboxServer, http: HttpFactory) -> None:
    key, error = failing(connector_for(server, location=f"{server.url}/ui/?p=2001/2002", shared_space=""), http)
    assert key == "shared_space" and "has no access to shared space 2001" in error.message


def test_unknown_workspace(server: SandboxServer, http: HttpFactory) -> None:
    key, error = failing(connector_for(server, workspace="1999"), http)
    assert key == "workspace"
    assert error.message == "workspace 1999 not found in shared space 1001."
    assert "1002 default_workspace" in error.hint and error.field == "workspace"


def test_workspace_without_access(server: SandboxServer, http: HttpFactory) -> None:
    key, error = failing(connector_for(server, client_id=NOACCESS_KEY[0], secret=NOACCESS_KEY[1]), http)
    assert key == "workspace"
    assert error.message == f"Client ID {NOACCESS_KEY[0]!r} is not assigned any role in workspace 1002."
    assert "1003 Payments" in error.hint


def test_missing_role(server: SandboxServer, http: HttpFactory) -> None:
    key, error = failing(connector_for(server, client_id=READONLY_KEY[0], secret=READONLY_KEY[1]), http)
    assert key == "role"
    assert error.message == (f"Client ID {READONLY_KEY[0]!r} is not assigned the CI/CD Integration role in "
                             "workspace 1002: it can read but not create defects.")
    assert error.hint.startswith("Authorization failure. Validate that Client ID is assigned to 'CI/CD Integration'")


def test_unknown_user(server: SandboxServer, http: HttpFactory) -> None:
    key, error = failing(connector_for(server, user="zoe@example.com"), http)
    assert key == "user"
    assert error.message == "user 'zoe@example.com' is not a member of workspace 1002."
    assert "alice@example.com" in error.hint and error.field == "user"


@pytest.mark.parametrize(("params", "field", "text"), [
    ({"done_phases": "Closed,Shipped"}, "done_phases", "Unknown defect phase: Shipped."),
    ({"new_phase": "phase.story.new"}, "new_phase", "Unknown defect phase: phase.story.new."),
    ({"parent": "424242"}, "parent", "Parent work item 424242 was not found in workspace 1002."),
    ({"reopen_phase": "Closed"}, "reopen_phase", "Reopen-to phase Closed is a done phase."),
    ({"alm_priority_map": '{"1-10": "Blocker"}'}, "alm_priority_map", "Unknown severity: Blocker."),
])
def test_connection_settings_step(server: SandboxServer, http: HttpFactory, params: dict[str, str], field: str,
                                  text: str) -> None:
    connector = connector_for(server)
    key, error = failing(connector, http, connection_for(connector, server, **params))
    assert key == "connection_settings"
    assert error.message == text and error.field == field
    if field in ("done_phases", "new_phase"):
        assert "Deferred" in error.hint and "New (phase.defect.new)" in error.hint


def test_bad_location_fails_first_step_not_construction(http: HttpFactory) -> None:
    connector = ConnectorSettings("c", "octane", {"location": "octane.example.com", "client_id": "k"},
                                  {"client_secret": "s"})
    key, error = failing(connector, http)
    assert key == "version" and error.field == "location"


def test_plain_http_to_remote_host_is_flagged() -> None:
    from almdesk.systems.octane.location import plain_http_warning

    assert plain_http_warning("http://octane.example.com") != ""
    assert plain_http_warning("http://127.0.0.1:8080") == ""
    assert plain_http_warning("https://octane.example.com") == ""


def test_steps_run_in_the_shared_test_job(make_server: Callable[..., SandboxServer], http: HttpFactory) -> None:
    """The app's Test Connection job runs our steps after its own; keys stay unique, all pass."""
    from almdesk.jobs.context import JobContext
    from almdesk.services.actions import test_job

    server = make_server()
    connector = connector_for(server)
    outcome = test_job(SYSTEM, connector, connection_for(connector, server), http)(JobContext())
    assert outcome.succeeded, outcome.message
    keys = [s.key for s in outcome.steps]
    assert len(keys) == len(set(keys))
    assert keys[-7:] == ["version", "auth", "shared_space", "workspace", "role", "user", "connection_settings"]
    assert all(s.status == "ok" for s in outcome.steps)
