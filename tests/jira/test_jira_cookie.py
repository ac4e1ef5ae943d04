"""Jira's browser-session-cookie sign-in against the Data Center sandbox over loopback HTTP.

A pasted Cookie header (in any of the shapes browsers' developer tools give) signs in; Test Connection
and a sync run on it end to end; the session's expiry is named, whether Jira answers anonymously, the
session ends mid-job, or an SSO front redirects to its sign-in on another host. The cookie goes only to
the configured origin (a hostile front redirecting elsewhere gets nothing) and is in none of the data
directory's files (database, log, traces).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from almdesk.base.records import StepResult
from almdesk.base.settings import ConnectorSettings
from almdesk.errors import AuthError, ConfigError
from almdesk.jobs.context import JobContext
from almdesk.net.session import HttpFactory
from almdesk.sandbox.base import SandboxServer
from almdesk.sandbox.jira import JiraSandbox
from almdesk.services.actions import run_steps, settings_step
from almdesk.systems.jira import SYSTEM
from almdesk.systems.jira.cookie import session_cookie
from tests.cli_run import run
from tests.jira.cli_e2e import connector_and_connection, files_holding
from tests.jira.conftest import Stopper, app_of, connection_for, start
from tests.net.test_credential_scope import Catcher, Front, Server
from tests.net.test_credential_scope import catcher as catcher  # the fixture, shared


def cookie_connector(server: SandboxServer, cookie: str, url: str = "") -> ConnectorSettings:
    params = {**server.describe()["params"], "auth_method": "cookie", "user": ""}
    if url:
        params["url"] = url
    return ConnectorSettings("jira-cookie", "jira", SYSTEM.check_connector(params), {"token": cookie})


def check_connection(connector: ConnectorSettings, http: HttpFactory | None = None) -> list[StepResult]:
    steps = [settings_step(SYSTEM, connector), *SYSTEM.test_steps(connector, None, http or HttpFactory(retries=0))]
    return run_steps(steps, JobContext())


def failed(results: list[StepResult]) -> StepResult:
    (step,) = [r for r in results if r.status == "failed"]
    return step


# --- the pasted value ---------------------------------------------------------------------------

@pytest.mark.parametrize(("pasted", "header"), [
    ("Cookie: JSESSIONID=AB12; seraph.rememberme.cookie=10%3Aabc", "JSESSIONID=AB12; seraph.rememberme.cookie=10%3Aabc"),
    ("cookie:JSESSIONID=AB12;atlassian.xsrf.token=B|x|lin", "JSESSIONID=AB12; atlassian.xsrf.token=B|x|lin"),
    ("  JSESSIONID=AB12;\n  seraph.rememberme.cookie=x  ", "JSESSIONID=AB12; seraph.rememberme.cookie=x"),
    ("AB12CD34", "JSESSIONID=AB12CD34"),  # the JSESSIONID value alone
])
def test_pasted_shapes(pasted: str, header: str) -> None:
    assert session_cookie(pasted)[0] == header


@pytest.mark.parametrize("pasted", ["", "Cookie:", "JSESSIONID=", "a b=c", "JSESSIONID=AB; =x", "JSESSIONID=ü",
                                    "AB12; CD34"])
def test_what_is_not_a_cookie_is_named(pasted: str) -> None:
    with pytest.raises(ConfigError) as info:
        session_cookie(pasted)
    assert info.value.field == "token"


def test_cookie_needs_no_user_and_is_offered_with_a_friendly_label() -> None:
    field = next(f for f in SYSTEM.connector_fields if f.name == "auth_method")
    assert "cookie" in field.choices
    assert field.choice_labels[field.choices.index("cookie")] == "Browser session cookie (SSO-only sites)"
    out = SYSTEM.check_connector({"url": "https://jira.example.com", "deployment": "datacenter",
                                  "auth_method": "cookie"})
    assert out["auth_method"] == "cookie" and out["user"] == ""


# --- the sandbox's sessions ---------------------------------------------------------------------

def test_the_sandbox_mints_reads_and_ends_sessions(dc: SandboxServer) -> None:
    url = f"{dc.url}/rest/auth/1/session"
    wrong = requests.post(url, json={"username": "admin", "password": "nope"}, timeout=5)
    assert wrong.status_code == 401 and wrong.json()["errorMessages"] == ["Login failed"]
    assert requests.post(url, data="username=admin", timeout=5,
                         headers={"Content-Type": "application/x-www-form-urlencoded"}).status_code == 415
    admin = app_of(dc).admin
    login = requests.post(url, json={"username": "admin", "password": admin.password}, timeout=5)
    assert login.status_code == 200 and login.json()["session"]["name"] == "JSESSIONID"
    cookie = {"JSESSIONID": login.cookies["JSESSIONID"]}
    assert login.json()["session"]["value"] == cookie["JSESSIONID"]
    me = requests.get(f"{dc.url}/rest/api/2/myself", cookies=cookie, timeout=5)
    assert me.status_code == 200 and me.json()["name"] == "admin" and me.headers["X-AUSERNAME"] == "admin"
    assert requests.delete(url, cookies=cookie, timeout=5).status_code == 204
    after = requests.get(f"{dc.url}/rest/api/2/myself", cookies=cookie, timeout=5)
    assert after.status_code == 401 and after.headers["X-AUSERNAME"] == "anonymous"


# --- end to end ---------------------------------------------------------------------------------

def test_test_connection_with_a_pasted_cookie_header(dc: SandboxServer) -> None:
    app = app_of(dc)
    results = check_connection(cookie_connector(dc, f"Cookie: {app.mint_session()}; seraph.rememberme.cookie=x"))
    assert [r.status for r in results] == ["ok"] * 4, [(r.key, r.detail) for r in results]
    auth = next(r for r in results if r.key == "jira-auth")
    assert auth.detail == "Signed in as Sandbox Admin (admin@example.com) with a browser session cookie"


def test_a_sync_through_the_cli_and_the_cookie_is_in_no_file(dc: SandboxServer, tmp_path: Path) -> None:
    app = app_of(dc)
    cookie = app.mint_session()
    value = cookie.partition("=")[2]
    desc = dc.describe()
    data_dir = tmp_path / "data"
    params = {**desc["params"], "auth_method": "cookie", "user": ""}
    connector_and_connection(data_dir, tmp_path, params, {"token": f"Cookie: {cookie}"}, None,
                             desc["connection_params"])
    code, doc = run(data_dir, "connection", "test", "a")
    assert code == 0, doc
    code, doc = run(data_dir, "sync", "a")
    assert code == 0 and doc["result"]["counts"]["created"] >= 1, doc
    traces = list((data_dir / "traces").glob("*.jsonl"))
    assert traces, "debug mode wrote no trace: the check would be vacuous"
    assert any('"Cookie": "«redacted»"' in t.read_text() for t in traces)
    assert files_holding(data_dir, value, cookie) == []


def test_an_expired_session_is_named(dc: SandboxServer) -> None:
    app = app_of(dc)
    cookie = app.mint_session()
    app.sessions.expire()
    step = failed(check_connection(cookie_connector(dc, cookie)))
    assert step.key == "jira-server" and step.field == "token"
    assert step.detail.startswith("The browser session expired") and "anonymous" in step.detail
    assert "Sign in to Jira again in the browser" in step.hint and "paste" in step.hint


def test_a_session_that_ends_mid_sync(dc: SandboxServer) -> None:
    app = app_of(dc)
    connector = cookie_connector(dc, app.mint_session())
    adapter = SYSTEM.sync_adapter(connection_for(connector, dc), HttpFactory(retries=0), JobContext())
    try:
        adapter.prepare()
        app.sessions.expire()
        with pytest.raises(AuthError) as info:
            list(adapter.iter_items())
    finally:
        adapter.close()
    assert "browser session expired" in info.value.message and info.value.field == "token"


def test_an_sso_front_redirecting_to_its_sign_in_elsewhere(stopper: Stopper,
                                                          catcher: tuple[Catcher, Server]) -> None:
    """Jira behind SSO sends an expired session to the identity provider: another host. The cookie is
    not sent there, and the failure says the browser session expired."""
    catch, idp = catcher
    dc = start("dc", sso_url=idp.url)
    try:
        app = app_of(dc)
        cookie = app.mint_session()
        assert [r.status for r in check_connection(cookie_connector(dc, cookie))] == ["ok"] * 4
        app.sessions.expire()
        step = failed(check_connection(cookie_connector(dc, cookie)))
    finally:
        stopper(dc)
    assert step.detail.startswith("The browser session expired") and "another host" in step.detail
    assert idp.url.replace("http://", "") in step.detail and step.field == "token"
    assert catch.seen == []


@pytest.mark.parametrize("status", [302, 307])
@pytest.mark.parametrize("forward", [0, 1, 2])  # Test Connection sends 3 requests
def test_a_hostile_redirect_gets_no_cookie(forward: int, status: int, stopper: Stopper,
                                           catcher: tuple[Catcher, Server]) -> None:
    """The credential-scope pattern (tests/net/test_credential_scope.py) for the cookie: a front that
    forwards to the sandbox, then redirects to a catcher on another port."""
    catch, catch_server = catcher
    dc = start("dc")
    front_app = Front(target=dc.url, away=catch_server.url, forward=forward, status=status)
    front = Server(front_app)
    try:
        cookie = app_of(dc).mint_session()
        results = check_connection(cookie_connector(dc, cookie, url=front.url))
    finally:
        front.stop()
        stopper(dc)
    assert front_app.redirected, "the front never redirected: the test did not test anything"
    assert catch.seen == [], [(s.url, s.headers) for s in catch.seen]
    step = failed(results)
    assert "another host" in step.detail and catch_server.url.replace("http://", "") in step.detail


def test_the_cookie_is_not_kept_in_the_cookie_jar(dc: SandboxServer) -> None:
    """It is a credential header of the session (scoped to the origin), not a jar cookie that could be
    sent to any host the jar matches."""
    from almdesk.systems.jira.client import JiraClient

    app: JiraSandbox = app_of(dc)
    cookie = app.mint_session()
    client = JiraClient(cookie_connector(dc, cookie), HttpFactory(retries=0))
    try:
        assert client.myself()["name"] == "admin"
        assert "cookie" in client.session.credential_headers
        assert all(c.value != cookie.partition("=")[2] for c in client.session.cookies)
    finally:
        client.close()
    assert json.dumps(client.session.cookies.get_dict()).find(cookie.partition("=")[2]) == -1
