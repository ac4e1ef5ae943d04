"""sdetools parameters map onto each real system's connector fields (URL, user, secrets, auth kind)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from almdesk.services import Services
from almdesk.systems.registry import Registry
from almdesk.transfer import apply_import, plan_import

CASES: list[tuple[str, dict[str, Any], dict[str, Any], list[str]]] = [
    # system, sdetools params, expected almdesk params (subset), secrets asked
    ("jira", {"alm_server": "acme.atlassian.net", "alm_user": "me@acme.example", "alm_pass": "x"},
     {"url": "https://acme.atlassian.net", "user": "me@acme.example", "auth_method": "api_token"}, ["token"]),
    ("jira", {"alm_method": "https", "alm_server": "jira.acme.example", "alm_context_root": "jira",
              "alm_user": "jdoe", "alm_pass": "x", "jira_version": "6"},
     {"url": "https://jira.acme.example/jira", "user": "jdoe", "auth_method": "basic"}, ["token"]),
    ("github", {"alm_server": "api.github.com", "alm_api_token": "x", "github_repo_owner": "acme"},
     {"url": "https://api.github.com", "github_repo_owner": "acme"}, ["alm_api_token"]),
    ("github", {"alm_server": "github.acme.example", "alm_api_token": "x", "github_repo_owner": "acme"},
     {"url": "https://github.acme.example/api/v3"}, ["alm_api_token"]),
    ("rally", {"alm_server": "rally1.rallydev.com", "alm_user": "r@acme.example", "alm_pass": "x"},
     {"alm_server": "https://rally1.rallydev.com", "alm_user": "r@acme.example", "auth_method": "basic"},
     ["alm_pass"]),
    ("rally", {"alm_server": "rally1.rallydev.com", "alm_api_key": "_x"},
     {"alm_server": "https://rally1.rallydev.com", "auth_method": "api_key"}, ["alm_api_key"]),
    ("octane", {"alm_server": "octane.acme.example:8443", "alm_user": "api_key_id", "alm_pass": "x",
                "octane_shared_space": "1001", "octane_workspace": "1002"},
     {"location": "https://octane.acme.example:8443", "client_id": "api_key_id", "shared_space": "1001",
      "workspace": "1002"}, ["client_secret"]),
]


@pytest.mark.parametrize(("system", "params", "expected", "asked"), CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_sdetools_params_map_to_system_fields(admin_services: Services, registry: Registry, tmp_path: Path,
                                              system: str, params: dict[str, Any], expected: dict[str, Any],
                                              asked: list[str]) -> None:
    if system not in registry:
        pytest.skip(f"{system} not installed")
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"results": [{"name": "C", "system": {"id": system}, "params": params}]}))
    plan = plan_import(admin_services.config, path)
    assert plan.missing_secrets == {"C": asked}
    assert any(s.endswith(k) for s in plan.secrets_in_file for k in ("alm_pass", "alm_api_token", "alm_api_key"))
    apply_import(admin_services.config, plan, {"C": {k: f"typed-{k}-value" for k in asked}})
    info = admin_services.config.connector("C")
    for key, value in expected.items():
        assert info.params[key] == value, (key, info.params)
    assert admin_services.config.connector_settings("C").secrets == {k: f"typed-{k}-value" for k in asked}
