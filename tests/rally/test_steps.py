"""Rally Test Connection against the sandbox: the happy path and each failing step's own message."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from werkzeug.wrappers import Request, Response

from almdesk.base.records import Step
from almdesk.base.settings import ConnectionSettings, ConnectorSettings
from almdesk.errors import AuthError, ConfigError, RemoteError, UserFacingError
from almdesk.net.redact import Redaction
from almdesk.net.session import HttpFactory
from almdesk.net.trace import TraceRecorder
from almdesk.sandbox.base import SandboxApp, SandboxServer, serve
from almdesk.sandbox.rally import RallyApp
from almdesk.systems.rally import SYSTEM
from tests.rally.conftest import make_connection


def run(steps: list[Step]) -> tuple[list[tuple[str, str]], UserFacingError | None]:
    """Run like the app does: in order, stopping at the first failure."""
    done: list[tuple[str, str]] = []
    for step in steps:
        try:
            done.append((step.key, step.run()))
        except UserFacingError as exc:
            return done, exc
    return done, None


def with_params(connector: ConnectorSettings, **params: Any) -> ConnectorSettings:
    return dataclasses.replace(connector, params={**connector.params, **params})


def with_secrets(connector: ConnectorSettings, **secrets: str) -> ConnectorSettings:
    return dataclasses.replace(connector, secrets={**connector.secrets, **secrets})


def conn(connector: ConnectorSettings, desc: dict[str, Any], **params: Any) -> ConnectionSettings:
    return make_connection(connector, {**desc["connection_params"], **params})


def test_connection_succeeds_with_a_detail_per_step(connector: ConnectorSettings, connection: ConnectionSettings,
                                                    http: HttpFactory, rally_app: RallyApp) -> None:
    done, error = run(SYSTEM.test_steps(connector, connection, http))
    assert error is None
    keys = [k for k, _ in done]
    assert keys == ["rally_http", "rally_auth", "rally_workspace", "rally_project", "rally_permission", "rally_write",
                    "rally_settings"]
    details = dict(done)
    assert "HTTP 401" in details["rally_http"]
    assert rally_app.info.admin.username in details["rally_auth"]
    assert details["rally_workspace"].startswith("Acme Delivery")
    assert details["rally_permission"] == "Editor of Online Store"
    assert "ScheduleState Defined" in details["rally_settings"]


def test_connector_only_lists_workspaces(connector: ConnectorSettings, http: HttpFactory) -> None:
    done, error = run(SYSTEM.test_steps(connector, None, http))
    assert error is None
    assert done[-1][0] == "rally_subscription"
    assert "Acme Delivery" in done[-1][1] and "Legacy 2019" not in done[-1][1]


def test_bad_host_and_refused_port(connector: ConnectorSettings, http: HttpFactory) -> None:
    _, error = run(SYSTEM.test_steps(with_params(connector, alm_server="http://rally.nonexistent.invalid"),
                                     None, http))
    assert isinstance(error, RemoteError) and "cannot be found" in error.message and error.field == "alm_server"
    _, error = run(SYSTEM.test_steps(with_params(connector, alm_server="http://127.0.0.1:9"), None,
                                     HttpFactory(retries=0)))
    assert isinstance(error, RemoteError) and "refused" in error.message


def test_not_a_rally_server(connector: ConnectorSettings, http: HttpFactory, rally_server: SandboxServer) -> None:
    _, error = run(SYSTEM.test_steps(with_params(connector, alm_server=rally_server.url + "/portal"), None, http))
    # /portal/slm/... is not served: the user pasted an address with an extra path in front of /slm
    assert isinstance(error, RemoteError) and error.field == "alm_server"
    assert "not a Rally server" in error.message


def test_bad_key(connector: ConnectorSettings, http: HttpFactory) -> None:
    done, error = run(SYSTEM.test_steps(with_secrets(connector, alm_api_key="_notAValidKey"), None, http))
    assert [k for k, _ in done] == ["rally_http"]
    assert isinstance(error, AuthError) and error.field == "alm_api_key"
    assert "refused the API key (HTTP 401)" in error.message and "_notAValidKey" not in str(error)


def test_missing_key_and_disabled_user(connector: ConnectorSettings, http: HttpFactory, rally_app: RallyApp) -> None:
    _, error = run(SYSTEM.test_steps(with_secrets(connector, alm_api_key=""), None, http))
    assert isinstance(error, ConfigError) and error.field == "alm_api_key"
    _, error = run(SYSTEM.test_steps(with_secrets(connector, alm_api_key=rally_app.info.disabled.api_key), None,
                                     http))
    assert isinstance(error, AuthError) and "HTTP 401" in error.message and "disabled" in error.hint


def test_key_of_another_user(connector: ConnectorSettings, http: HttpFactory) -> None:
    _, error = run(SYSTEM.test_steps(with_params(connector, alm_user="someone.else@acme.example"), None, http))
    assert isinstance(error, ConfigError) and error.field == "alm_user"
    assert "belongs to sam.sandbox@acme.example" in error.message


@pytest.mark.parametrize(("params", "key", "field", "text"), [
    ({"rally_workspace": "No Such Space"}, "rally_workspace", "rally_workspace", "Acme Delivery"),
    ({"rally_workspace": "acme delivery"}, "rally_workspace", "rally_workspace", "Did you mean 'Acme Delivery'"),
    ({"rally_workspace": "Legacy 2019"}, "rally_workspace", "rally_workspace", "is closed"),
    ({"alm_project": "Nope"}, "rally_project", "alm_project", "Online Store"),
    ({"alm_project": "Old Portal"}, "rally_project", "alm_project", "closed"),
    ({"alm_project": "Checkout Team"}, "rally_project", "alm_project",
     "Mobile App // Checkout Team, Online Store // Checkout Team"),
    ({"alm_project": "Online Store // Nope"}, "rally_project", "alm_project", "not found"),
    ({"alm_project": "Finance Reports"}, "rally_permission", "alm_project", "only a Viewer"),
    ({"rally_new_status": "New"}, "rally_settings", "rally_new_status", "Defined, In-Progress, Completed, Accepted"),
    ({"rally_done_statuses": "Done"}, "rally_settings", "rally_done_statuses", "'Done'"),
    ({"rally_card_type": "Task", "alm_parent_issue": ""}, "rally_settings", "rally_done_statuses",
     "tasks only have"),
    ({"rally_card_type": "Task", "alm_parent_issue": "US9999", "rally_done_statuses": "Completed"}, "rally_parent",
     "alm_parent_issue", "US9999 was not found"),
    ({"rally_card_type": "Task", "alm_parent_issue": "", "rally_done_statuses": "Completed"}, "rally_parent",
     "alm_parent_issue", "needs a parent"),
])
def test_each_failing_step_has_its_own_message(connector: ConnectorSettings, rally_desc: dict[str, Any],
                                               http: HttpFactory, params: dict[str, Any], key: str, field: str,
                                               text: str) -> None:
    steps = SYSTEM.test_steps(connector, conn(connector, rally_desc, **params), http)
    done, error = run(steps)
    failed = steps[len(done)].key
    assert error is not None, done
    assert (failed, error.field) == (key, field), str(error)
    assert text in str(error)
    assert error.hint


def test_project_paths_pick_one_of_twins(connector: ConnectorSettings, rally_desc: dict[str, Any],
                                        http: HttpFactory, rally_app: RallyApp) -> None:
    twin = next(p for p in rally_app.store.by_type["Project"].values()
                if p["Name"] == "Checkout Team" and rally_app.store.get(p["Parent"])["Name"] == "Mobile App")  # type: ignore[index]
    connection = conn(connector, rally_desc, alm_project="Mobile App // Checkout Team")
    done, error = run(SYSTEM.test_steps(connector, connection, http))
    assert error is None
    assert f"ObjectID {twin['ObjectID']}" in dict(done)["rally_project"]


def test_task_with_parent_passes(connector: ConnectorSettings, rally_desc: dict[str, Any], http: HttpFactory,
                                 rally_app: RallyApp) -> None:
    connection = conn(connector, rally_desc, rally_card_type="Task", alm_parent_issue=rally_app.info.parent_story,
                      rally_done_statuses="Completed")
    done, error = run(SYSTEM.test_steps(connector, connection, http))
    assert error is None
    assert done[-1][0] == "rally_parent" and "OWASP" in done[-1][1]


def test_basic_auth_connector(connector: ConnectorSettings, rally_desc: dict[str, Any], http: HttpFactory,
                              rally_app: RallyApp) -> None:
    basic = ConnectorSettings(name="basic", system="rally", params=SYSTEM.check_connector(
        {**connector.params, "auth_method": "basic", "alm_user": rally_app.info.admin.username}),
        secrets={"alm_pass": "Sandbox-Rally-1"})
    steps = SYSTEM.test_steps(basic, conn(basic, rally_desc), http)
    assert steps[1].title == "User name and password accepted"
    done, error = run(steps)
    assert error is None and "security token" in done[1][1]
    wrong = dataclasses.replace(basic, secrets={"alm_pass": "wrong-password"})
    _, error = run(SYSTEM.test_steps(wrong, None, http))
    assert isinstance(error, AuthError) and error.field == "alm_pass" and "wrong-password" not in str(error)


def test_check_connector(rally_server: SandboxServer) -> None:
    out = SYSTEM.check_connector({"alm_server": rally_server.url + "/slm/webservice/v2.0/", "auth_method": "api_key"})
    assert out["alm_server"] == rally_server.url
    with pytest.raises(ConfigError) as exc:
        SYSTEM.check_connector({"alm_server": rally_server.url, "auth_method": "basic", "alm_user": ""})
    assert exc.value.field == "alm_user"


def test_debug_trace_keeps_the_key_out(connector: ConnectorSettings, connection: ConnectionSettings,
                                       tmp_path: Path) -> None:
    trace = TraceRecorder(tmp_path / "trace.jsonl", rules=Redaction(SYSTEM.secret_names, SYSTEM.secret_query_keys))
    http = HttpFactory(trace=trace)
    _, error = run(SYSTEM.test_steps(connector, connection, http))
    assert error is None and trace.count == http.requests > 5
    text = (tmp_path / "trace.jsonl").read_text(encoding="utf-8")
    assert connector.secrets["alm_api_key"] not in text and "ZSESSIONID" in text


class _SignInRedirect(SandboxApp):
    """A single-sign-on front door: every API path redirects to a login page."""

    def dispatch(self, request: Request) -> Response:
        if request.path.startswith("/login"):
            return Response("<html><body>Sign in</body></html>", content_type="text/html")
        return Response("", status=302, headers={"Location": "/login"})

    def describe(self, base_url: str) -> dict[str, Any]:
        return {}


def test_sign_in_redirect_is_reachable_but_not_an_api(connector: ConnectorSettings, http: HttpFactory) -> None:
    server = serve(_SignInRedirect())
    try:
        done, error = run(SYSTEM.test_steps(with_params(connector, alm_server=server.url), None, http))
    finally:
        server.stop()
    assert done == [("rally_http", "Rally web services v2.0 redirects to sign-in (HTTP 302)")]
    assert isinstance(error, RemoteError) and "sign-in page (single sign-on or a proxy) instead of the API" in error.message
