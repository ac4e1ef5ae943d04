"""Test Connection against the Jira sandbox: success in both modes, and each failure's own message."""

from __future__ import annotations

import socket
from collections.abc import Callable

from almdesk.base.records import StepResult
from almdesk.base.settings import ConnectionSettings, ConnectorSettings
from almdesk.errors import AuthError, ConfigError, RemoteError, UserFacingError
from almdesk.jobs.context import JobContext
from almdesk.net.session import HttpFactory
from almdesk.sandbox.base import SandboxServer
from almdesk.services.actions import run_steps
from almdesk.systems.jira import SYSTEM
from tests.jira.conftest import app_of, connection_for, connector_for


def run(connector: ConnectorSettings, connection: ConnectionSettings | None, http: HttpFactory) -> list[StepResult]:
    return run_steps(SYSTEM.test_steps(connector, connection, http), JobContext())


def failed(results: list[StepResult]) -> StepResult:
    bad = [r for r in results if r.status == "failed"]
    assert len(bad) == 1, [(r.key, r.status, r.detail) for r in results]
    return bad[0]


def run_step_error(connector: ConnectorSettings, connection: ConnectionSettings | None,
                   http: HttpFactory) -> tuple[str, UserFacingError]:
    """The key of the failing step and the error it raised."""
    for step in SYSTEM.test_steps(connector, connection, http):
        try:
            step.run()
        except UserFacingError as exc:
            return step.key, exc
    raise AssertionError("no step failed")


def test_connection_succeeds_in_both_modes(jira: SandboxServer, http: HttpFactory) -> None:
    connector = connector_for(jira)
    results = run(connector, connection_for(connector, jira), http)
    assert [r.status for r in results] == ["ok"] * len(results), [(r.key, r.detail) for r in results]
    keys = [r.key for r in results]
    assert keys == ["jira-server", "jira-auth", "jira-project", "jira-permissions", "jira-issue-type",
                    "jira-statuses", "jira-transitions", "jira-fields", "jira-labels"]
    details = {r.key: r.detail for r in results}
    mode = app_of(jira).mode
    assert details["jira-server"].startswith("Jira Cloud" if mode == "cloud" else "Jira Data Center")
    assert "Sandbox Admin" in details["jira-auth"]
    assert "'Close Issue' from" in details["jira-transitions"]
    assert "'Reopen Issue' from" in details["jira-transitions"]
    assert "SD-Elements" in details["jira-labels"]


def test_connector_only_lists_projects(jira: SandboxServer, http: HttpFactory) -> None:
    results = run(connector_for(jira), None, http)
    assert [r.key for r in results] == ["jira-server", "jira-auth", "jira-projects"]
    assert results[-1].status == "ok" and "DEMO" in results[-1].detail


def test_auto_deployment_is_detected(jira: SandboxServer, http: HttpFactory) -> None:
    connector = connector_for(jira, deployment="auto")
    results = run(connector, connection_for(connector, jira), http)
    assert all(r.status == "ok" for r in results)


def test_bad_host_fails_at_server_step(http: HttpFactory) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    connector = ConnectorSettings("x", "jira", SYSTEM.check_connector(
        {"url": f"http://127.0.0.1:{port}", "deployment": "auto", "auth_method": "api_token",
         "user": "a@example.com"}), {"token": "t"})
    key, exc = run_step_error(connector, None, http)
    assert key == "jira-server"
    assert isinstance(exc, RemoteError) and "refused the connection" in exc.message and exc.field == "url"


def test_not_jira_fails_at_server_step(jira: SandboxServer, http: HttpFactory) -> None:
    connector = connector_for(jira, url=jira.url + "/wiki")
    key, exc = run_step_error(connector, None, http)
    assert key == "jira-server" and exc.field == "url"
    assert "web page" in exc.message or "no Jira REST API" in exc.message


def test_wrong_token_fails_at_auth(jira: SandboxServer, http: HttpFactory) -> None:
    connector = connector_for(jira, secrets={"token": "not-the-token"})
    key, exc = run_step_error(connector, None, http)
    assert key == "jira-auth" and isinstance(exc, AuthError) and exc.field == "token"
    assert "not-the-token" not in str(exc)
    assert "refused" in exc.message


def test_cloud_token_used_as_dc_pat_is_recognised(dc: SandboxServer, cloud: SandboxServer,
                                                  http: HttpFactory) -> None:
    cloud_token = cloud.describe()["secrets"]["token"]
    connector = connector_for(dc, secrets={"token": cloud_token})
    key, exc = run_step_error(connector, None, http)
    assert key == "jira-auth" and isinstance(exc, AuthError)
    assert "Atlassian Cloud API token" in exc.message and "Personal Access Tokens" in exc.hint
    assert cloud_token not in str(exc)


def test_pat_against_cloud_explains_cloud_auth(cloud: SandboxServer, dc: SandboxServer, http: HttpFactory) -> None:
    connector = connector_for(cloud, deployment="auto", auth_method="pat", user="",
                              secrets={"token": dc.describe()["secrets"]["token"]})
    key, exc = run_step_error(connector, None, http)
    assert key == "jira-auth" and exc.field == "auth_method"
    assert exc.message.startswith("This server is Jira Cloud") and "API token" in exc.hint


def test_cloud_password_is_refused_with_a_reason(cloud: SandboxServer, http: HttpFactory) -> None:
    password = app_of(cloud).admin.password
    connector = connector_for(cloud, secrets={"token": password})
    key, exc = run_step_error(connector, None, http)
    assert key == "jira-auth" and "accepts only API tokens" in exc.message


def test_dc_basic_auth_and_captcha(sandbox_factory: Callable[..., SandboxServer], http: HttpFactory) -> None:
    server = sandbox_factory("dc", captcha_after=2)
    admin = app_of(server).admin
    good = connector_for(server, auth_method="basic", user="admin", secrets={"token": admin.password})
    assert all(r.status == "ok" for r in run(good, None, http))
    bad = connector_for(server, auth_method="basic", user="admin", secrets={"token": "wrong"})
    for _ in range(2):
        key, exc = run_step_error(bad, None, http)
        assert key == "jira-auth" and "username 'admin' or its password" in exc.message
    key, exc = run_step_error(good, None, http)
    assert key == "jira-auth" and "CAPTCHA" in exc.message and "login.jsp" in exc.hint


def test_deployment_mismatch(jira: SandboxServer, http: HttpFactory) -> None:
    mode = app_of(jira).mode
    wrong = {"deployment": "datacenter", "auth_method": "pat", "user": ""} if mode == "cloud" else {
        "deployment": "cloud", "auth_method": "api_token", "user": "admin@example.com"}
    key, exc = run_step_error(connector_for(jira, **wrong), None, http)
    assert key == "jira-server" and exc.field == "deployment" and "Deployment is set to" in exc.message


def test_pat_for_another_user(dc: SandboxServer, http: HttpFactory) -> None:
    key, exc = run_step_error(connector_for(dc, user="viewer"), None, http)
    assert key == "jira-auth" and exc.field == "user" and "not to 'viewer'" in exc.message


def _connection_error(server: SandboxServer, http: HttpFactory, **params: object) -> tuple[str, UserFacingError]:
    connector = connector_for(server)
    return run_step_error(connector, connection_for(connector, server, **params), http)


def test_missing_project(jira: SandboxServer, http: HttpFactory) -> None:
    key, exc = _connection_error(jira, http, alm_project="NOPE")
    assert key == "jira-project" and isinstance(exc, ConfigError) and exc.field == "alm_project"
    assert "'NOPE' was not found" in exc.message and "DEMO" in exc.hint


def test_project_key_case_is_hinted(jira: SandboxServer, http: HttpFactory) -> None:
    key, exc = _connection_error(jira, http, alm_project="demo")
    assert key == "jira-project" and "Did you mean DEMO?" in exc.hint


def test_missing_permissions(jira: SandboxServer, http: HttpFactory) -> None:
    app = app_of(jira)
    viewer = app.user_named("viewer")
    if app.mode == "cloud":
        connector = connector_for(jira, user=viewer.email, secrets={"token": viewer.api_token})
    else:
        connector = connector_for(jira, user="viewer", secrets={"token": viewer.pat})
    key, exc = run_step_error(connector, connection_for(connector, jira), http)
    assert key == "jira-permissions" and isinstance(exc, AuthError)
    assert "CREATE_ISSUES" in exc.message and "TRANSITION_ISSUES" in exc.message


def test_missing_issue_type(jira: SandboxServer, http: HttpFactory) -> None:
    key, exc = _connection_error(jira, http, alm_project="OPS")
    assert key == "jira-issue-type" and exc.field == "jira_issue_type"
    assert "'Bug' does not exist in project OPS" in exc.message and "Task, Sub-task" in exc.hint


def test_subtask_needs_parent(jira: SandboxServer, http: HttpFactory) -> None:
    key, exc = _connection_error(jira, http, jira_issue_type="Sub-task")
    assert key == "jira-issue-type" and exc.field == "alm_parent_issue"


def test_subtask_with_parent_passes(jira: SandboxServer, http: HttpFactory) -> None:
    connector = connector_for(jira)
    connection = connection_for(connector, jira, jira_issue_type="Sub-task", alm_parent_issue="DEMO-1",
                                jira_done_statuses="Done", jira_close_transition="Done",
                                jira_reopen_transition="To Do")
    results = run(connector, connection, http)
    assert all(r.status in ("ok", "warning") for r in results), [(r.key, r.detail) for r in results]


def test_unknown_done_status(jira: SandboxServer, http: HttpFactory) -> None:
    key, exc = _connection_error(jira, http, jira_issue_type="Task")
    assert key == "jira-statuses" and exc.field == "jira_done_statuses"
    assert "Resolved, Closed" in exc.message and "To Do, In Progress, Done" in exc.hint


def test_unknown_transition_name(jira: SandboxServer, http: HttpFactory) -> None:
    key, exc = _connection_error(jira, http, jira_close_transition="Finish")
    assert key == "jira-transitions" and exc.field == "jira_close_transition"
    assert "'Finish' is not available" in exc.message and "Close Issue" in exc.hint


def test_transition_names_differ_per_issue_type(jira: SandboxServer, http: HttpFactory) -> None:
    key, exc = _connection_error(jira, http, jira_issue_type="Task", jira_done_statuses="Done")
    assert key == "jira-transitions" and "'Close Issue' is not available" in exc.message
    assert "Done" in exc.hint


def test_uncovered_required_field(jira: SandboxServer, http: HttpFactory) -> None:
    key, exc = _connection_error(jira, http, alm_project="SEC")
    assert key == "jira-fields" and exc.field == "alm_custom_fields"
    assert "Security Severity (one of Low, Medium, High, Critical)" in exc.message
    assert '{"Security Severity": "Low"}' in exc.hint


def test_required_field_covered_by_custom_fields(jira: SandboxServer, http: HttpFactory) -> None:
    connector = connector_for(jira)
    connection = connection_for(connector, jira, alm_project="SEC", alm_custom_fields='{"Security Severity": "High"}')
    results = run(connector, connection, http)
    assert all(r.status in ("ok", "warning") for r in results), [(r.key, r.detail) for r in results]


def test_bad_custom_field_value(jira: SandboxServer, http: HttpFactory) -> None:
    key, exc = _connection_error(jira, http, alm_project="SEC", alm_custom_fields='{"Security Severity": "Huge"}')
    assert key == "jira-fields" and "'Huge' is not an allowed value" in exc.message


def test_labels_not_on_screen(jira: SandboxServer, http: HttpFactory) -> None:
    key, exc = _connection_error(jira, http, alm_project="SEC", jira_issue_type="Incident",
                                 jira_done_statuses="Done", jira_close_transition="Done",
                                 jira_reopen_transition="To Do")
    assert key == "jira-labels" and exc.field == "alm_issue_label" and "no Labels field" in exc.message


def test_transitions_unverifiable_is_a_warning(jira: SandboxServer, http: HttpFactory) -> None:
    connector = connector_for(jira)
    connection = connection_for(connector, jira, alm_project="SEC", jira_issue_type="Task",
                                jira_done_statuses="Done", jira_close_transition="Done",
                                jira_reopen_transition="To Do")
    results = run(connector, connection, http)
    step = next(r for r in results if r.key == "jira-transitions")
    assert step.status == "warning" and "No Task in SEC yet" in step.detail


def test_label_with_space_is_refused(jira: SandboxServer, http: HttpFactory) -> None:
    key, exc = _connection_error(jira, http, alm_issue_label="SD Elements")
    assert key == "jira-labels" and exc.field == "alm_issue_label" and "contains spaces" in exc.message


def test_dc_with_context_path_and_pasted_issue_address(sandbox_factory: Callable[..., SandboxServer],
                                                       http: HttpFactory) -> None:
    server = sandbox_factory("dc", context_path="/jira")
    connector = connector_for(server, url=server.url + "/jira/browse/DEMO-3", deployment="auto")
    assert connector.params["url"] == server.url + "/jira"
    results = run(connector, connection_for(connector, server), http)
    assert all(r.status == "ok" for r in results), [(r.key, r.detail) for r in results]


def test_cloud_auth_against_dc_when_auto(dc: SandboxServer, cloud: SandboxServer, http: HttpFactory) -> None:
    info = cloud.describe()
    connector = connector_for(dc, deployment="auto", auth_method="api_token", user=info["params"]["user"],
                              secrets=info["secrets"])
    key, exc = run_step_error(connector, None, http)
    assert key == "jira-auth" and exc.field == "auth_method"
    assert exc.message.startswith("This server is Jira Data Center") and "personal access token" in exc.hint
