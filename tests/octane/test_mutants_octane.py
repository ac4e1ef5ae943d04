"""Octane Location parsing at its edges and the query builders' exact output.

Written against the mutation report (docs/mutation.md): ports at the limits, control characters,
web contexts, ``p`` spelled or placed oddly, non-ASCII digits; and each builder's exact statement.
"""

from __future__ import annotations

import pytest

from almdesk.errors import ConfigError
from almdesk.systems.octane import query as q
from almdesk.systems.octane.location import parse_location, plain_http_warning


def refused(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_location(text)
    assert info.value.field == "location" and info.value.hint
    return info.value


@pytest.mark.parametrize("port", ["0", "00"])
def test_port_zero_is_refused(port: str) -> None:
    err = refused(f"https://octane.example.com:{port}/ui/?p=1001")
    assert err.message == "Location has an invalid port."
    assert "1 to 65535" in err.hint


@pytest.mark.parametrize(("port", "shown"), [("1", ":1"), ("65535", ":65535"), ("08080", ":8080")])
def test_ports_at_the_limits_are_kept(port: str, shown: str) -> None:
    assert parse_location(f"https://o.example.com:{port}/ui/?p=1") == (f"https://o.example.com{shown}", "1", None)


def test_port_above_the_range_is_refused() -> None:
    assert refused("https://o.example.com:65536/ui/?p=1").message == "Location has an invalid port."


def test_control_characters_and_spaces_are_refused() -> None:
    assert refused("https://o.example.com/ui/?p=1\x07").message == "Location contains control characters."
    assert refused("https://o.example.com/ui/?p=1\x00").message == "Location contains control characters."
    assert refused("https://o.example.com/ui/\t?p=1").message == "Location must not contain spaces."


def test_missing_scheme_hint_shows_the_fixed_address() -> None:
    assert refused("//o.example.com/ui/?p=1").hint == "Write the full address, for example https://o.example.com/ui/?p=1."
    assert refused("o.example.com/ui/?p=1").hint == "Write the full address, for example https://o.example.com/ui/?p=1."


def test_hints_show_an_example_location() -> None:
    assert "https://octane.example.com/ui/?p=1001/1002" in refused("https://o.example.com/ui/").hint
    assert "https://octane.example.com/ui/?p=1001/1002" in refused("https:///ui/?p=1").hint


def test_bad_ipv6_brackets_and_user_info() -> None:
    assert refused("https://[::1/ui/?p=1").message == "Location has an invalid host name."
    assert refused("https://user@o.example.com/ui/?p=1").message == \
        "Location must not contain a user name or password."


def test_ipv6_host_is_bracketed_and_lowercased() -> None:
    assert parse_location("https://[2001:DB8::1]/ui/?p=1") == ("https://[2001:db8::1]", "1", None)
    assert parse_location("https://[2001:db8::1]:8443/ui/?p=1/2") == ("https://[2001:db8::1]:8443", "1", "2")


def test_web_context_loses_trailing_slashes_and_ui_must_be_a_segment() -> None:
    assert parse_location("https://o.example.com/ctx//ui/?p=1")[0] == "https://o.example.com/ctx"
    assert refused("https://o.example.com/xui/?p=1").message == "Location must contain /ui/?p=<shared space id>."
    assert refused("https://o.example.com/uix/?p=1").message == "Location must contain /ui/?p=<shared space id>."


def test_p_is_found_in_any_case_and_the_first_one_wins() -> None:
    assert parse_location("https://o.example.com/ui/?P=1001/1002") == ("https://o.example.com", "1001", "1002")
    assert parse_location("https://o.example.com/ui/?p=1001&p=2002") == ("https://o.example.com", "1001", None)
    assert refused("https://o.example.com/ui/?p=&p=1001").message.startswith("Location has no shared space")
    assert refused("https://o.example.com/ui/?pp=1001").message.startswith("Location has no shared space")


def test_p_value_edges() -> None:
    assert parse_location("https://o.example.com/ui/?p=/1001/")[1:] == ("1001", None)
    assert parse_location("https://o.example.com/ui/?p=1001/")[1:] == ("1001", None)
    assert parse_location("https://o.example.com/ui/?p=1001/%20/")[1:] == ("1001", None)  # a blank workspace
    assert parse_location("https://o.example.com/ui/?p=1001%2F%201002")[1:] == ("1001", "1002")


def test_p_is_decoded_twice_after_the_query_decoding_and_no_more() -> None:
    # parse_qsl decodes once (%252F -> %2F); two more rounds cover a paste encoded three times over
    assert parse_location("https://o.example.com/ui/?p=1001%25252F1002")[1:] == ("1001", "1002")
    assert refused("https://o.example.com/ui/?p=1001%2525252F1002").message.startswith(
        "shared space id must be a number")


def test_non_ascii_digits_are_not_ids() -> None:
    assert refused("https://o.example.com/ui/?p=١٠٠١").message.startswith("shared space id must be a number")
    assert refused("https://o.example.com/ui/?p=1001/١٠٠٢").message.startswith("workspace id must be a number")
    assert refused("https://o.example.com/ui/?p=1001/²").message.startswith("workspace id must be a number")


def test_plain_http_warning() -> None:
    assert "plain http" in plain_http_warning("http://octane.example.com")
    assert plain_http_warning("http://127.0.0.1:8080") == ""
    assert plain_http_warning("http://localhost:8080") == ""
    assert plain_http_warning("https://octane.example.com") == ""


# ---- query builders ----------------------------------------------------------------------------

@pytest.mark.parametrize("ch", list("\\^'\"()*"))
def test_every_special_character_is_escaped(ch: str) -> None:
    assert q.escape(f"a{ch}b") == f"a\\{ch}b"
    assert q.literal(ch) == f"^\\{ch}^"


def test_ordinary_characters_are_kept() -> None:
    assert q.escape("R&D; x || y {z} [w] , ! é") == "R&D; x || y {z} [w] , ! é"


def test_pattern_keeps_only_the_star() -> None:
    assert q.pattern("a*(b)") == "^a*\\(b\\)^"
    assert q.escape("a*", wildcards=False) == "a\\*"


def test_builders() -> None:
    assert q.eq("id", 7) == "id EQ 7"
    assert q.eq("name", "x") == "name EQ ^x^"
    assert q.eq("name", "7") == "name EQ ^7^"
    assert q.ref("release", "id EQ ^1^") == "release EQ {id EQ ^1^}"
    assert q.ref_id("phase", "p1") == "phase EQ {id EQ ^p1^}"
    assert q.null_ref("release") == "release EQ {null}"
    assert q.any_of([]) == "" and q.any_of(["", ""]) == ""
    assert q.any_of(["a", ""]) == "a"
    assert q.any_of(["a", "b", "c"]) == "((a)||(b)||(c))"
    assert q.all_of(["a", "", "b"]) == "a;b"
    assert q.negate("a") == "!(a)"
    assert q.quoted("a;b") == '"a;b"'
