"""Location parsing: a table of real-world pastes (valid and invalid) and a never-crash property."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from almdesk.errors import ConfigError
from almdesk.systems.octane import SYSTEM, parse_location

VALID = [
    ("https://octane.example.com/ui/?p=1001/1002", ("https://octane.example.com", "1001", "1002")),
    ("https://octane.example.com/ui/?p=1001", ("https://octane.example.com", "1001", None)),
    ("http://myServer.myCompany.com:8081/ui/?p=1002", ("http://myserver.mycompany.com:8081", "1002", None)),
    ("https://octane.example.com/ui/?p=1001%2F1002", ("https://octane.example.com", "1001", "1002")),
    ("https://octane.example.com/ui/?p=1001%2f1002", ("https://octane.example.com", "1001", "1002")),
    ("https://octane.example.com/ui/?p=1001%252F1002", ("https://octane.example.com", "1001", "1002")),
    ("https://h.example.com:3213/ui/?p=1001%2F1002&TENANTID=1#/entity-navigation?entityType=work_item&id=5",
     ("https://h.example.com:3213", "1001", "1002")),
    ("https://h.example.com/ui/?TENANTID=1&p=1001/1002", ("https://h.example.com", "1001", "1002")),
    ("https://h.example.com/ui/?admin&p=1001/1002#/settings/workspaces",
     ("https://h.example.com", "1001", "1002")),
    ("https://h.example.com:8447/web-context/ui/?p=1001/1002", ("https://h.example.com:8447/web-context", "1001",
                                                                "1002")),
    ("https://h.example.com/a/b/ui/?p=2001", ("https://h.example.com/a/b", "2001", None)),
    ("  https://octane.example.com/ui/?p=1001/1002  \n", ("https://octane.example.com", "1001", "1002")),
    ("https://octane.example.com/ui?p=1001/1002", ("https://octane.example.com", "1001", "1002")),
    ("https://octane.example.com/ui/?p=1001/1002#/backlog/defects?view=grid",
     ("https://octane.example.com", "1001", "1002")),
    ("https://octane.example.com/ui/?p=1001/1002/", ("https://octane.example.com", "1001", "1002")),
    ("https://octane.example.com/ui/entity-navigation?p=1001/1002&entityType=work_item&id=2005",
     ("https://octane.example.com", "1001", "1002")),
    ("HTTPS://Octane.Example.COM/ui/?p=1001/1002", ("https://octane.example.com", "1001", "1002")),
    ("http://127.0.0.1:8080/ui/?p=1001/1002", ("http://127.0.0.1:8080", "1001", "1002")),
    ("http://[::1]:8080/ui/?p=1001", ("http://[::1]:8080", "1001", None)),
    ("https://almoctane-eur.saas.microfocus.com/ui/?p=146003/1002#/dashboard",
     ("https://almoctane-eur.saas.microfocus.com", "146003", "1002")),
    ("https://octane.example.com/UI/?p=1001", ("https://octane.example.com", "1001", None)),
]

INVALID = [
    ("", "Location is required."),
    ("   ", "Location is required."),
    ("octane.example.com/ui/?p=1001", "Location must start with https:// or http://."),
    ("//octane.example.com/ui/?p=1001", "Location must start with https:// or http://."),
    ("ftp://octane.example.com/ui/?p=1001", "Location must start with https:// or http://, not ftp://."),
    ("https://octane.example.com/?p=1001", "Location must contain /ui/?p=<shared space id>."),
    ("https://octane.example.com", "Location must contain /ui/?p=<shared space id>."),
    ("https://octane.example.com/ui/", "Location has no shared space: the p=<shared space id> parameter is missing."),
    ("https://octane.example.com/ui/?TENANTID=1", "Location has no shared space: the p=<shared space id> "
                                                  "parameter is missing."),
    ("https://octane.example.com/ui/#/?p=1001", "Location has no shared space: the p=<shared space id> "
                                                "parameter is missing."),
    ("https://octane.example.com/ui/?p=", "Location has no shared space: the p=<shared space id> parameter is "
                                          "missing."),
    ("https://octane.example.com/ui/?p=abc/1002", "shared space id must be a number (p=abc/1002)."),
    ("https://octane.example.com/ui/?p=1001/ws", "workspace id must be a number (p=1001/ws)."),
    ("https://octane.example.com/ui/?p=1001/1002/1003", "Location's p=1001/1002/1003 has more than a shared space "
                                                        "and a workspace."),
    ("https://octane.example.com:99999/ui/?p=1001", "Location has an invalid port."),
    ("https:///ui/?p=1001", "Location has no host name."),
    ("https://user:pw@octane.example.com/ui/?p=1001", "Location must not contain a user name or password."),
    ("https://octane.example.com/ui/?p=10 01", "Location must not contain spaces."),
]


@pytest.mark.parametrize(("text", "expected"), VALID)
def test_valid_locations(text: str, expected: tuple[str, str, str | None]) -> None:
    assert parse_location(text) == expected


@pytest.mark.parametrize(("text", "message"), INVALID)
def test_invalid_locations(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_location(text)
    assert info.value.message == message
    assert info.value.field == "location"
    assert info.value.hint


def test_table_is_big_enough() -> None:
    assert len(VALID) + len(INVALID) >= 25


def test_check_connector_fills_ids_from_location() -> None:
    params = SYSTEM.check_connector({"location": "https://o.example.com/ui/?p=1001/1002", "client_id": "k",
                                     "shared_space": "", "workspace": ""})
    assert params["shared_space"] == "1001"
    assert params["workspace"] == "1002"


def test_check_connector_explicit_workspace_wins_and_space_must_agree() -> None:
    params = SYSTEM.check_connector({"location": "https://o.example.com/ui/?p=1001/1002", "workspace": "1003"})
    assert params["workspace"] == "1003"
    with pytest.raises(ConfigError) as info:
        SYSTEM.check_connector({"location": "https://o.example.com/ui/?p=1001/1002", "shared_space": "2001"})
    assert info.value.field == "shared_space"


def test_check_connector_accepts_bare_server_with_shared_space_field() -> None:
    params = SYSTEM.check_connector({"location": "https://o.example.com/octane", "shared_space": "1001"})
    assert params["shared_space"] == "1001"
    with pytest.raises(ConfigError) as info:
        SYSTEM.check_connector({"location": "https://o.example.com/ui/?p=1001", "workspace": "abc"})
    assert info.value.field == "workspace"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_parse_location_never_crashes(text: str) -> None:
    try:
        server, space, workspace = parse_location(text)
    except ConfigError as exc:
        assert exc.field == "location"
        assert exc.message
        return
    assert server.startswith(("http://", "https://"))
    assert space.isdigit()
    assert workspace is None or workspace.isdigit()


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["http", "https"]), st.from_regex(r"[a-z][a-z0-9-]{0,12}(\.[a-z]{2,5}){1,2}", fullmatch=True),
       st.one_of(st.none(), st.integers(1, 65535)), st.sampled_from(["", "/ctx", "/a/b"]),
       st.integers(1, 10**6), st.one_of(st.none(), st.integers(1, 10**6)),
       st.sampled_from(["/", "%2F", "%2f"]), st.sampled_from(["", "&TENANTID=1", "#/x?p=9"]))
def test_parse_location_round_trip(scheme: str, host: str, port: int | None, context: str, space: int,
                                   workspace: int | None, sep: str, tail: str) -> None:
    netloc = host if port is None else f"{host}:{port}"
    p = str(space) if workspace is None else f"{space}{sep}{workspace}"
    text = f"{scheme}://{netloc}{context}/ui/?p={p}{tail}"
    assert parse_location(text) == (f"{scheme}://{netloc}{context}", str(space),
                                    None if workspace is None else str(workspace))
