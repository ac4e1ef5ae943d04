"""Fuzzing the Octane Location parser and every system's server-URL field with browser-like pastes.

Locations are built from a grammar of real paste pieces (schemes, user info, hosts incl. IPv6 and
broken brackets, ports, web contexts, ``/ui`` variants, ``p=`` values plain, ``%2F``/``%252F``-encoded,
non-ASCII digits, other query parameters, fragments) and from raw text. Whatever comes in, the parser
returns a well-formed ``(server, shared space, workspace)`` that parses back to itself, or raises a
:class:`ConfigError` on the ``location`` field with a message and a hint — never anything else.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from almdesk.base.fields import parse_fields
from almdesk.errors import ConfigError
from almdesk.systems.octane.location import parse_location
from almdesk.systems.registry import Registry
from tests.fuzz.common import fuzz_settings

SCHEMES = st.sampled_from(["https://", "http://", "HTTPS://", "Http://", "ftp://", "https:/", "https//", "//", "",
                           "https:///", "file://"])
USERINFO = st.sampled_from(["", "", "", "user@", "user:pw@", "@", ":@"])
HOSTS = st.one_of(
    st.sampled_from(["octane.example.com", "Octane.Example.COM", "127.0.0.1", "localhost", "[::1]", "[::1",
                     "::1]", "]x[", "[fe80::1%25eth0]", "xn--bcher-kva.example", "bücher.example", "",
                     "h\x00st", "h\x7fst", "a\u200bb.example", "-.example", "h..example", "[]", "[::g]"]),
    st.from_regex(r"[a-z0-9][a-z0-9.-]{0,20}", fullmatch=True),
)
PORTS = st.one_of(st.just(""), st.integers(-1, 70000).map(lambda p: f":{p}"),
                  st.sampled_from([":", ":abc", ":８０", ":1 2", ":+80", ":0x50"]))
CONTEXTS = st.sampled_from(["", "", "/ctx", "/a/b", "/web-context", "/%2e%2e", "/ui/ui", "//", "/x?y"])
UI = st.sampled_from(["/ui/", "/ui/", "/ui", "/UI/", "/u i/", "", "/ui/entity-navigation", "/uix/", "/ui/#"])
DIGITS = st.one_of(st.integers(0, 10**12).map(str), st.sampled_from(["", " ", "²", "١٠٠١", "1001²", "0x10",
                                                                     "-1", "1e3", "1.0", "١"]))
SEPARATORS = st.sampled_from(["/", "%2F", "%2f", "%252F", "%25252F", "//", "/ ", "%2", "%"])
P_VALUES = st.one_of(
    st.tuples(DIGITS, st.one_of(st.none(), st.tuples(SEPARATORS, DIGITS))).map(
        lambda t: t[0] if t[1] is None else f"{t[0]}{t[1][0]}{t[1][1]}"),
    st.text(max_size=12),
)
OTHER_PARAMS = st.lists(st.sampled_from(["admin", "TENANTID=1", "P=7", "p", "p=", "x=%", "a=b&&", "%00=1"]),
                        max_size=3)
FRAGMENTS = st.sampled_from(["", "", "#", "#/backlog", "#/x?p=9", "#?p=1/2", "##"])
PADDING = st.sampled_from(["", " ", "\n", "\t ", "\u00a0"])


@st.composite
def locations(draw: st.DrawFn) -> str:
    params = draw(OTHER_PARAMS)
    p = draw(st.one_of(st.none(), P_VALUES))
    if p is not None:
        params.insert(draw(st.integers(0, len(params))), f"p={p}")
    query = ("?" + "&".join(params)) if params or draw(st.booleans()) else ""
    pad = draw(PADDING)
    return (pad + draw(SCHEMES) + draw(USERINFO) + draw(HOSTS) + draw(PORTS) + draw(CONTEXTS) + draw(UI) + query
            + draw(FRAGMENTS) + draw(PADDING))


def check(text: str) -> None:
    """The parser's contract for one input (see the module docstring)."""
    try:
        server, space, workspace = parse_location(text)
    except ConfigError as exc:
        assert exc.field == "location", (text, exc.field)
        assert exc.message and exc.hint, text
        assert len(exc.message) < 400, exc.message
        return
    parts = urlsplit(server)
    assert parts.scheme in ("http", "https"), (text, server)
    assert parts.hostname, (text, server)
    assert not parts.query and not parts.fragment and not parts.username, (text, server)
    assert parts.port is None or 1 <= parts.port <= 65535, (text, server)
    assert server.isprintable() and not any(ch.isspace() for ch in server), (text, server)
    assert space.isascii() and space.isdigit(), (text, space)
    assert workspace is None or (workspace.isascii() and workspace.isdigit()), (text, workspace)
    again = f"{server}/ui/?p={space}" + (f"/{workspace}" if workspace else "")
    assert parse_location(again) == (server, space, workspace), (text, again)


@fuzz_settings(800)
@given(locations())
def test_grammar_built_locations_parse_or_fail_clearly(text: str) -> None:
    check(text)


@fuzz_settings(300)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=60).map(lambda t: "https://" + t))
def test_arbitrary_text_after_the_scheme(text: str) -> None:
    check(text)


# Regressions found by the grammar above (fixed in almdesk/systems/octane/location.py).
@pytest.mark.parametrize("text", ["https://[::1/ui/?p=1001", "https://]x[/ui/?p=1001", "https://[::g]/ui/?p=1"])
def test_broken_ipv6_brackets_are_a_config_error(text: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_location(text)
    assert info.value.field == "location" and "host" in info.value.message


@pytest.mark.parametrize("text", ["https://h.example/ui/?p=²", "https://h.example/ui/?p=١٠٠١/1002",
                                  "https://h.example/ui/?p=1001/²"])
def test_non_ascii_digits_are_not_ids(text: str) -> None:
    with pytest.raises(ConfigError, match="must be a number"):
        parse_location(text)


@pytest.mark.parametrize("text", ["https://h.example:0/ui/?p=1001", "http://h\x00st/ui/?p=1001",
                                  "https://h\x7fst.example/ui/?p=1001"])
def test_port_zero_and_control_characters_are_refused(text: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_location(text)
    assert info.value.field == "location"


# --- every system's server URL field, through parse_fields + check_connector as the form does ---------

URL_FIELDS = {"octane": "location", "jira": "url", "github": "url", "rally": "alm_server"}
BASE_PARAMS = {
    "octane": {"client_id": "k"},
    "jira": {"user": "a@example.com"},
    "github": {},
    "rally": {},
}


@pytest.mark.parametrize("system", list(URL_FIELDS))
@fuzz_settings(150, report_multiple_bugs=False)
@given(text=locations())
def test_connector_form_url_fields(system: str, text: str) -> None:
    sys_obj = Registry.default().get(system)
    raw = {**BASE_PARAMS[system], URL_FIELDS[system]: text}
    try:
        sys_obj.check_connector(parse_fields(sys_obj.connector_fields, raw))
    except ConfigError as exc:
        assert exc.message, text
        return



def test_check_url_broken_ipv6_brackets() -> None:
    """Found by the fuzzer above; fixed in systems/base.py (check_url) by its owner meanwhile."""
    from almdesk.base.fields import check_url

    with pytest.raises(ConfigError):
        check_url("https://[::1/rest")
