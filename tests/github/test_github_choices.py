"""GitHub's server-backed choices over real HTTP against the sandbox: the owner's repositories and a
repository's milestones; milestones without a repository name the field."""

from __future__ import annotations

from typing import Any

import pytest

from almdesk.base.settings import ConnectorSettings
from almdesk.errors import ConfigError
from almdesk.net.session import HttpFactory
from almdesk.services.choices import list_choices
from almdesk.systems.github import SYSTEM


def test_repositories_and_milestones(connector: ConnectorSettings, gh_info: dict[str, Any],
                                     http: HttpFactory) -> None:
    params = dict(gh_info["connection_params"])
    repos = [v for v, _ in list_choices(SYSTEM, "alm_project", connector, params, http).choices]
    assert params["alm_project"] in repos and all("/" not in r for r in repos)
    no_owner = ConnectorSettings(connector.name, connector.system, {**connector.params, "github_repo_owner": ""},
                                 connector.secrets)
    anywhere = [v for v, _ in list_choices(SYSTEM, "alm_project", no_owner, {}, http).choices]
    assert f"{params['github_repo_owner']}/{params['alm_project']}" in anywhere
    milestones = dict(list_choices(SYSTEM, "alm_project_version", connector, params, http).choices)
    assert "v1.0" in milestones and milestones["v0.9"] == "v0.9 (closed)"


def test_milestones_need_the_repository(connector: ConnectorSettings, http: HttpFactory) -> None:
    with pytest.raises(ConfigError) as info:
        list_choices(SYSTEM, "alm_project_version", connector, {"alm_project": ""}, http)
    assert info.value.field == "alm_project"
