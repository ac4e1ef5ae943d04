"""GitHub's field schema: URL derivation, owner/repository checks, priority map, registry wiring."""

from __future__ import annotations

import pytest

from almdesk.base.fields import FieldErrors, FieldKind, parse_fields
from almdesk.errors import ConfigError
from almdesk.systems.github import SYSTEM
from almdesk.systems.github.fields import check_connection, normalize_api_url, priority_labels
from almdesk.systems.registry import Registry


@pytest.mark.parametrize(("given", "expected"), [
    ("https://github.com", "https://api.github.com"),
    ("https://github.com/", "https://api.github.com"),
    ("https://api.github.com/", "https://api.github.com"),
    ("https://ghe.example.com", "https://ghe.example.com/api/v3"),
    ("https://ghe.example.com/api/v3/", "https://ghe.example.com/api/v3"),
    ("https://ghe.example.com:8443/", "https://ghe.example.com:8443/api/v3"),
    ("https://api.octocorp.ghe.com", "https://api.octocorp.ghe.com"),
    ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
    ("http://localhost:8080/api/v3", "http://localhost:8080/api/v3"),
])
def test_api_url_derivation(given: str, expected: str) -> None:
    assert normalize_api_url(given) == expected


def test_connector_schema_and_check() -> None:
    names = [f.name for f in SYSTEM.connector_fields]
    assert names[:2] == ["url", "alm_api_token"]
    token = next(f for f in SYSTEM.connector_fields if f.name == "alm_api_token")
    assert token.kind is FieldKind.SECRET and token.required
    parsed = SYSTEM.check_connector(parse_fields(SYSTEM.connector_fields, {"url": "https://github.com"}))
    assert parsed["url"] == "https://api.github.com" and parsed["github_write_pace_ms"] == 800
    with pytest.raises(FieldErrors) as caught:
        SYSTEM.check_connector(parse_fields(SYSTEM.connector_fields, {"github_repo_owner": "bad owner!"}))
    assert "github_repo_owner" in caught.value.errors
    with pytest.raises(ConfigError) as bad_url:
        parse_fields(SYSTEM.connector_fields, {"url": "api.github.com"})
    assert bad_url.value.field == "url"


def test_connection_fields_are_target_or_status() -> None:
    assert {f.section for f in SYSTEM.connection_fields} <= {"Target", "Status"}
    assert {"github_repo_owner", "alm_project", "github_issue_label", "github_duplicate_label",
            "alm_project_version", "github_public_content"} <= {f.name for f in SYSTEM.connection_fields}


def test_check_connection() -> None:
    out = check_connection({"alm_project": "Org/Repo.git", "github_repo_owner": ""})
    assert (out["github_repo_owner"], out["alm_project"]) == ("Org", "Repo")
    assert check_connection({"alm_project": "repo"}, default_owner="acme")["github_repo_owner"] == "acme"
    cases = [
        ({"alm_project": "a/b", "github_repo_owner": "c"}, "alm_project"),
        ({"alm_project": "repo"}, "github_repo_owner"),
        ({"alm_project": "re po", "github_repo_owner": "x"}, "alm_project"),
        ({"alm_project": "", "github_repo_owner": "x"}, "alm_project"),
        ({"alm_project": "r", "github_repo_owner": "-x"}, "github_repo_owner"),
        ({"alm_project": "r", "github_repo_owner": "x", "github_issue_label": "a,b"}, "github_issue_label"),
    ]
    for params, field in cases:
        with pytest.raises(FieldErrors) as caught:
            check_connection(params)
        assert field in caught.value.errors, params
    assert SYSTEM.check_connection({"alm_project": "x/y"})["github_repo_owner"] == "x"


def test_priority_map() -> None:
    default = priority_labels("")
    assert default[1] == "Low" and default[5] == "Medium" and default[10] == "High"
    assert priority_labels('{"1-9": "P2", "10": "P1"}')[10] == "P1"
    for bad, words in [("{", "not valid JSON"), ('{"1-5":"a","5-10":"b"}', "twice"),
                       ('{"1-4":"a","6-10":"b"}', "does not cover priority 5"), ('{"5-1":"a"}', "range"),
                       ("[]", "object"), ('{"0-10":"a"}', "range")]:
        with pytest.raises(ConfigError) as caught:
            priority_labels(bad)
        assert caught.value.field == "alm_priority_map" and words in caught.value.message, bad


def test_registry_loads_github() -> None:
    system = Registry.default().get("github")
    assert system is SYSTEM or system.name == "github"
    assert SYSTEM.item_noun == "issue" and SYSTEM.label == "GitHub"
