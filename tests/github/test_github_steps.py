"""Test Connection against the sandbox: the happy path, and each failure with its own message and field."""

from __future__ import annotations

from typing import Any

import pytest

from almdesk.base.settings import ConnectionSettings, ConnectorSettings
from almdesk.errors import AuthError, ConfigError, RemoteError, UserFacingError
from almdesk.net.session import HttpFactory
from almdesk.sandbox.github import GitHubSandbox
from almdesk.systems.github import SYSTEM
from tests.github.conftest import make_connection, make_connector


def run(connector: ConnectorSettings, connection: ConnectionSettings | None, http: HttpFactory
        ) -> tuple[list[tuple[str, str]], UserFacingError | None]:
    """Run the steps like the app does: in order, stopping at the first failure."""
    done: list[tuple[str, str]] = []
    for step in SYSTEM.test_steps(connector, connection, http):
        try:
            done.append((step.key, step.run()))
        except UserFacingError as exc:
            return done, exc
    return done, None


def test_all_steps_pass_and_create_nothing(gh_app: GitHubSandbox, connector: ConnectorSettings,
                                           connection: ConnectionSettings, http: HttpFactory) -> None:
    before = len(gh_app.world.repo("almdesk-demo", "webapp").issues)  # type: ignore[union-attr]
    done, error = run(connector, connection, http)
    assert error is None
    assert [k for k, _ in done] == ["api", "token", "repo", "issues", "write", "labels"]
    details = dict(done)
    assert details["api"].startswith("GitHub Enterprise Server 3.")
    assert "almdesk-bot" in details["token"] and "repo" in details["token"]
    assert "private" in details["repo"] and not details["repo"].startswith("⚠")
    assert "almdesk" in details["labels"] and "exists" in details["labels"]
    assert len(gh_app.world.repo("almdesk-demo", "webapp").issues) == before  # type: ignore[union-attr]


def test_connector_only_steps(gh_info: dict[str, Any], http: HttpFactory) -> None:
    done, error = run(make_connector(gh_info), None, http)
    assert error is None and [k for k, _ in done] == ["api", "token", "owner"]
    assert "organisation almdesk-demo" in done[-1][1]
    done, error = run(make_connector(gh_info, github_repo_owner="nobody-at-all"), None, http)
    assert isinstance(error, ConfigError) and error.field == "github_repo_owner"


def test_root_url_is_github_com_like(gh_server: Any, gh_info: dict[str, Any], http: HttpFactory) -> None:
    done, error = run(make_connector(gh_info, url=gh_server.url), None, http)
    assert error is None and done[0][1] == f"GitHub REST API at {gh_server.url}"


def test_unreachable_host(gh_info: dict[str, Any], http: HttpFactory) -> None:
    done, error = run(make_connector(gh_info, url="http://127.0.0.1:9/api/v3"), None, http)
    assert done == [] and isinstance(error, RemoteError) and error.field == "url"
    assert "refused" in error.message


def test_not_a_github_api(gh_server: Any, gh_info: dict[str, Any], http: HttpFactory) -> None:
    done, error = run(make_connector(gh_info, url=f"{gh_server.url}/somewhere/else"), None, http)
    assert done == [] and isinstance(error, RemoteError) and error.field == "url"
    assert "No GitHub REST API answers" in error.message and "/api/v3" in error.hint


def test_bad_and_empty_token(gh_info: dict[str, Any], http: HttpFactory) -> None:
    done, error = run(make_connector(gh_info, token="ghp_not_a_real_token_at_all_0000000000"), None, http)
    assert [k for k, _ in done] == ["api"]
    assert isinstance(error, AuthError) and error.field == "alm_api_token" and "Bad credentials" in error.message
    assert "ghp_not_a_real" not in str(error)
    done, error = run(make_connector(gh_info, token=""), None, http)
    assert isinstance(error, ConfigError) and error.field == "alm_api_token"


def test_repo_not_found_lists_visible_repos(connector: ConnectorSettings, gh_info: dict[str, Any],
                                            http: HttpFactory) -> None:
    done, error = run(connector, make_connection(connector, gh_info, alm_project="webap"), http)
    assert [k for k, _ in done] == ["api", "token"]
    assert isinstance(error, ConfigError) and error.field == "alm_project"
    assert "almdesk-demo/webap was not found" in error.message and "webapp" in error.hint
    done, error = run(connector, make_connection(connector, gh_info, github_repo_owner="no-such-owner"), http)
    assert isinstance(error, ConfigError) and error.field == "github_repo_owner"


def test_private_repo_with_public_only_token(gh_app: GitHubSandbox, gh_info: dict[str, Any],
                                             http: HttpFactory) -> None:
    conn = make_connector(gh_info, token=gh_app.tokens["public"])
    _done, error = run(conn, make_connection(conn, gh_info), http)
    assert isinstance(error, ConfigError) and "cannot see it" in error.message and "repo scope" in error.hint


def test_issues_disabled_and_archived(connector: ConnectorSettings, gh_info: dict[str, Any],
                                      http: HttpFactory) -> None:
    done, error = run(connector, make_connection(connector, gh_info, alm_project="legacy"), http)
    assert done[-1][0] == "repo" and isinstance(error, ConfigError)
    assert "Issues are turned off for almdesk-demo/legacy" in error.message and "Features" in error.hint
    done, error = run(connector, make_connection(connector, gh_info, alm_project="old-tool"), http)
    assert isinstance(error, ConfigError) and "archived" in error.message


def test_read_only_token(gh_app: GitHubSandbox, gh_info: dict[str, Any], http: HttpFactory) -> None:
    conn = make_connector(gh_info, token=gh_app.tokens["readonly"])
    done, error = run(conn, make_connection(conn, gh_info), http)
    assert [k for k, _ in done] == ["api", "token", "repo", "issues"]
    assert "fine-grained" in done[1][1]
    assert isinstance(error, AuthError) and error.field == "alm_api_token"
    assert "may read almdesk-demo/webapp but not create issues" in error.message and "Issues: Read and write" in error.hint


def test_read_role_on_repository(connector: ConnectorSettings, gh_info: dict[str, Any], http: HttpFactory) -> None:
    conn = make_connection(connector, gh_info, github_repo_owner="other-org", alm_project="shared-lib")
    done, error = run(connector, conn, http)
    assert done[2][1].startswith("⚠") and "PUBLIC" in done[2][1]
    assert isinstance(error, AuthError) and "has read access" in error.message and "Write role" in error.hint


def test_public_repository_is_flagged(connector: ConnectorSettings, gh_info: dict[str, Any],
                                      http: HttpFactory) -> None:
    done, error = run(connector, make_connection(connector, gh_info, alm_project="public-site"), http)
    assert error is None
    assert done[2][1].startswith("⚠ almdesk-demo/public-site is PUBLIC") and "never the task text" in done[2][1]
    opted = make_connection(connector, gh_info, alm_project="public-site", github_public_content=True)
    done, error = run(connector, opted, http)
    assert error is None and "sends task text" in done[2][1]


@pytest.mark.parametrize(("milestone", "ok"), [("v1.0", True), ("V2.0", True), ("v9", False)])
def test_milestone_checked(connector: ConnectorSettings, gh_info: dict[str, Any], http: HttpFactory,
                           milestone: str, ok: bool) -> None:
    done, error = run(connector, make_connection(connector, gh_info, alm_project_version=milestone), http)
    if ok:
        assert error is None and "milestone" in done[-1][1]
    else:
        assert isinstance(error, ConfigError) and error.field == "alm_project_version"
        assert "v1.0" in error.hint and "v0.9" in error.hint


def test_bad_priority_map(connector: ConnectorSettings, gh_info: dict[str, Any], http: HttpFactory) -> None:
    conn = make_connection(connector, gh_info, alm_priority_map='{"1-5":"Low","5-10":"High"}')
    _done, error = run(connector, conn, http)
    assert isinstance(error, ConfigError) and error.field == "alm_priority_map" and "twice" in error.message
