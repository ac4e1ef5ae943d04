"""Jira connector/connection fields: URL clean-up, deployment vs auth checks, priority maps, ADF."""

from __future__ import annotations

import pytest

from almdesk.base.fields import parse_fields
from almdesk.base.settings import ConnectionSettings, ConnectorSettings
from almdesk.errors import ConfigError
from almdesk.systems.jira import SYSTEM
from almdesk.systems.jira.adf import from_adf, to_adf
from almdesk.systems.jira.fields import JiraTarget, normalize_url
from almdesk.systems.jira.payload import PriorityMapper, parse_priority_map, safe_label


def check(**params: str) -> dict[str, object]:
    return SYSTEM.check_connector(parse_fields(SYSTEM.connector_fields, params))


def test_field_names_are_stable() -> None:
    assert [f.name for f in SYSTEM.connector_fields] == ["url", "deployment", "auth_method", "user", "token",
                                                         "client_cert", "client_key", "client_key_passphrase"]
    assert [f.name for f in SYSTEM.connection_fields] == [
        "alm_project", "jira_issue_type", "alm_parent_issue", "alm_issue_label", "alm_project_version",
        "alm_custom_fields", "jira_done_statuses", "jira_close_transition", "jira_reopen_transition"]
    assert {f.section for f in SYSTEM.connection_fields} == {"Target", "Status"}
    assert SYSTEM.item_noun == "issue"


@pytest.mark.parametrize(("pasted", "site"), [
    ("https://acme.atlassian.net/jira/software/projects/DEMO/boards/1", "https://acme.atlassian.net"),
    ("https://acme.atlassian.net/browse/DEMO-4?focus=1", "https://acme.atlassian.net"),
    ("https://jira.example.com/jira/browse/DEMO-1", "https://jira.example.com/jira"),
    ("https://jira.example.com/jira/projects/DEMO/issues", "https://jira.example.com/jira"),
    ("https://jira.example.com/secure/Dashboard.jspa", "https://jira.example.com"),
    ("  https://jira.example.com/  ", "https://jira.example.com"),
    ("https://jira.example.com:8443/rest/api/2/serverInfo", "https://jira.example.com:8443"),
])
def test_pasted_addresses_are_cut_to_the_site(pasted: str, site: str) -> None:
    assert normalize_url(pasted) == site


def test_atlassian_host_means_cloud() -> None:
    out = check(url="https://acme.atlassian.net/browse/X-1", user="me@acme.com")
    assert out["deployment"] == "cloud" and out["url"] == "https://acme.atlassian.net"


@pytest.mark.parametrize(("params", "field", "words"), [
    ({"url": "https://acme.atlassian.net", "auth_method": "pat"}, "auth_method", "personal access tokens"),
    ({"url": "https://acme.atlassian.net", "auth_method": "basic", "user": "me"}, "auth_method", "passwords"),
    ({"url": "https://jira.example.com", "deployment": "datacenter", "user": "a@b.c"}, "auth_method",
     "only work with Jira Cloud"),
    ({"url": "https://acme.atlassian.net", "deployment": "datacenter", "auth_method": "pat"}, "deployment",
     "Jira Cloud site"),
    ({"url": "https://jira.example.com"}, "user", "required"),
    ({"url": "https://jira.example.com", "user": "admin"}, "user", "not an e-mail"),
    ({"url": "https://jira.example.com", "deployment": "datacenter", "auth_method": "basic"}, "user", "required"),
    ({"url": "jira.example.com", "user": "a@b.c"}, "url", "https://"),
])
def test_connector_checks(params: dict[str, str], field: str, words: str) -> None:
    with pytest.raises(ConfigError) as info:
        check(**params)
    assert info.value.field == field and words in str(info.value)


def test_pat_needs_no_user() -> None:
    out = check(url="https://jira.example.com/jira/", deployment="datacenter", auth_method="pat")
    assert out == {"url": "https://jira.example.com/jira", "deployment": "datacenter", "auth_method": "pat",
                   "user": ""}


def _connection(**params: object) -> ConnectionSettings:
    connector = ConnectorSettings("c", "jira", {"url": "https://x.atlassian.net"})
    return ConnectionSettings("a", connector, {f.name: f.default for f in SYSTEM.connection_fields} | params)


def test_target_defaults_and_workspace_override() -> None:
    target = JiraTarget.from_connection(_connection(alm_project="DEMO"))
    assert (target.project, target.issue_type, target.label) == ("DEMO", "Bug", "SD-Elements")
    assert target.done_statuses == ["Resolved", "Closed"] and target.is_done("closed")
    assert JiraTarget.from_connection(_connection(alm_project="DEMO"), workspace="SEC").project == "SEC"
    with pytest.raises(ConfigError) as info:
        JiraTarget.from_connection(_connection())
    assert info.value.field == "alm_project"
    with pytest.raises(ConfigError) as info:
        JiraTarget.from_connection(_connection(alm_project="D", alm_custom_fields="[1]"))
    assert info.value.field == "alm_custom_fields"


def test_priority_maps() -> None:
    assert parse_priority_map("") == [(1, 2, "Trivial"), (3, 4, "Minor"), (5, 6, "Major"), (7, 9, "Critical"),
                                      (10, 10, "Blocker")]
    dc = PriorityMapper("", ["Blocker", "Critical", "Major", "Minor", "Trivial"])
    assert [dc.name_for(p) for p in (10, 8, 5, 3, 1)] == ["Blocker", "Critical", "Major", "Minor", "Trivial"]
    cloud = PriorityMapper("", ["Highest", "High", "Medium", "Low", "Lowest"])
    assert [cloud.name_for(p) for p in (10, 8, 5, 3, 1)] == ["Highest", "High", "Medium", "Low", "Lowest"]
    custom = PriorityMapper('{"1-5": "low", "6-10": "High"}', ["High", "Low"])
    assert custom.name_for(2) == "Low" and custom.name_for(9) == "High"
    assert PriorityMapper("", []).name_for(9) is None
    for bad in ('{"1-5": "Low"}', '{"5-1": "Low"}', '{"1-6": "a", "6-10": "b"}', "[]", '{"x": "y"}'):
        with pytest.raises(ConfigError) as info:
            parse_priority_map(bad)
        assert info.value.field == "alm_priority_map"


def test_labels_and_adf() -> None:
    assert safe_label("  needs  review ") == "needs-review"
    doc = to_adf("one\ntwo\n\nthree")
    assert doc["content"][0]["content"][1] == {"type": "hardBreak"}
    assert from_adf(doc) == "one\ntwo\n\nthree"
    assert to_adf("") == {"type": "doc", "version": 1, "content": []}
