"""GitHub's reference Python client (PyGithub, from PyPI) against the sandbox with an Enterprise base URL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from github import Auth, Github, GithubException

from almdesk.sandbox.base import SandboxServer, serve
from almdesk.sandbox.github import GitHubSandbox, create
from tests.github.conftest import stop_soon


@pytest.fixture(scope="module")
def big() -> Iterator[tuple[GitHubSandbox, SandboxServer]]:
    app = create(seed=11, issues=270)
    server = serve(app)
    yield app, server
    stop_soon(server)


def client(server: SandboxServer, token: str) -> Github:
    return Github(base_url=f"{server.url}/api/v3", auth=Auth.Token(token), per_page=100,
                  seconds_between_requests=0, seconds_between_writes=0, retry=None)


def test_user_repo_and_issue_lifecycle(big: tuple[GitHubSandbox, SandboxServer]) -> None:
    app, server = big
    gh = client(server, app.tokens["admin"])
    assert gh.get_user().login == "almdesk-bot"
    repo = gh.get_repo("almdesk-demo/webapp")
    assert repo.private and repo.has_issues and repo.permissions.push
    issue = repo.create_issue(title="Made by PyGithub", body="Body text", labels=["bug"],
                              milestone=repo.get_milestone(1))
    assert issue.number > 270 and [lab.name for lab in issue.labels] == ["bug"] and issue.milestone.title == "v1.0"
    assert repo.get_issue(issue.number).title == "Made by PyGithub"
    issue.edit(state="closed", state_reason="completed")
    assert issue.state == "closed" and issue.closed_at is not None
    assert repo.get_issue(issue.number).state == "closed"
    issue.edit(state="open")
    assert issue.state == "open"


def test_listing_with_paging(big: tuple[GitHubSandbox, SandboxServer]) -> None:
    app, server = big
    gh = client(server, app.tokens["admin"])
    repo = gh.get_repo("almdesk-demo/webapp")
    stored = app.world.repo("almdesk-demo", "webapp")
    assert stored is not None
    everything = list(repo.get_issues(state="all"))
    assert len(everything) == len(stored.issues) > 250
    assert len({i.number for i in everything}) == len(everything)
    assert repo.get_issues(state="all").totalCount == len(stored.issues)
    pulls = [i for i in everything if i.pull_request is not None]
    assert pulls and all(stored.issues[i.number].pull_request for i in pulls)
    labelled = list(repo.get_issues(state="open", labels=[repo.get_label("almdesk")]))
    assert labelled and all(i.state == "open" and "almdesk" in [lab.name for lab in i.labels] for i in labelled)
    assert [m.title for m in repo.get_milestones(state="all")] == ["v1.0", "v2.0", "v0.9"]  # by due date


def test_labels(big: tuple[GitHubSandbox, SandboxServer]) -> None:
    app, server = big
    gh = client(server, app.tokens["admin"])
    repo = gh.get_repo("almdesk-demo/webapp")
    made = repo.create_label("pygithub", "00ff00", "made by a test")
    assert repo.get_label("pygithub").color == "00ff00" and made.description == "made by a test"
    assert "pygithub" in {lab.name for lab in repo.get_labels()}
    issue = repo.create_issue(title="Labels from PyGithub")
    issue.add_to_labels("pygithub", "bug")
    assert {lab.name for lab in issue.get_labels()} == {"pygithub", "bug"}
    issue.set_labels("enhancement")
    assert [lab.name for lab in repo.get_issue(issue.number).labels] == ["enhancement"]


def test_errors_as_pygithub_sees_them(big: tuple[GitHubSandbox, SandboxServer]) -> None:
    app, server = big
    with pytest.raises(GithubException) as bad:
        client(server, "ghp_bad").get_user().login  # noqa: B018
    assert bad.value.status == 401
    gh = client(server, app.tokens["admin"])
    with pytest.raises(GithubException) as missing:
        gh.get_repo("other-org/secret")
    assert missing.value.status == 404
    with pytest.raises(GithubException) as gone:
        gh.get_repo("almdesk-demo/legacy").create_issue(title="x")
    assert gone.value.status == 410
