"""Redaction, exactly: every secret header and key word, anywhere in a name; URLs, JSON, form bodies, values.

Written against the mutation report (docs/mutation.md). The key-name rule is a *search*: a secret
word anywhere in a name (``client_secret``, ``X-Client-Secret``) is masked, not only at the start.
"""

from __future__ import annotations

import json

import pytest

from almdesk.net.redact import (
    MASK,
    Redaction,
    redact_headers,
    redact_json,
    redact_text,
    redact_url,
    scrub,
)

WORDS = ["secret", "password", "passwd", "token", "api_key", "api-key", "apikey", "authorization", "cookie",
         "credential"]
# What systems declare beyond the generic words (Rally's ZSESSIONID and ?key=, Octane's LWSSO cookie)
RALLY = Redaction(("zsessionid",), ("key",))
OCTANE = Redaction(("lwsso",))


def test_mask() -> None:
    assert MASK == "«redacted»"


HEADERS = ["authorization", "Authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "X-Api-Key",
           "x-auth-token", "private-token", "x-trackertoken"]


@pytest.mark.parametrize("name", HEADERS)
def test_secret_headers_are_masked_in_any_case(name: str) -> None:
    assert redact_headers({name: "v", "Accept": "application/json"}) == {name: MASK, "Accept": "application/json"}


@pytest.mark.parametrize("word", WORDS)
def test_a_secret_word_anywhere_in_a_key_masks_it(word: str) -> None:
    for key in (word, word.upper(), f"client_{word}", f"x_{word}_value", f"My{word.title()}"):
        assert redact_json({key: "v", "name": "n"}) == {key: MASK, "name": "n"}, key
        assert redact_headers({f"X-{key}": "v"}) == {f"X-{key}": MASK}
        assert redact_url(f"https://h/p?{key}=v&q=1") == f"https://h/p?{key}=%C2%ABredacted%C2%BB&q=1"
        assert redact_text(f"{key}=v&q=1") == f"{key}=%C2%ABredacted%C2%BB&q=1"


def test_ordinary_names_are_kept() -> None:
    data = {"name": "n", "id": 1, "description": "a token of thanks", "keywords": "k", "author": "a"}
    assert redact_json(data) == data
    assert redact_headers({"Content-Type": "x", "Accept": "y"}) == {"Content-Type": "x", "Accept": "y"}


def test_json_is_redacted_deeply_but_empty_values_stay() -> None:
    data = {"a": [{"password": "p", "x": 1}, {"token": None}, {"secret": ""}], "b": {"c": {"api_key": 5}},
            7: "seven", "items": ["secret"]}
    assert redact_json(data) == {"a": [{"password": MASK, "x": 1}, {"token": None}, {"secret": ""}],
                                 "b": {"c": {"api_key": MASK}}, 7: "seven", "items": ["secret"]}


@pytest.mark.parametrize("name", ["zsessionid", "ZSESSIONID", "x-ZSessionID-2"])
def test_a_declared_secret_name_is_masked_only_with_its_system_rules(name: str) -> None:
    assert redact_headers({name: "v"}, RALLY) == {name: MASK}
    assert redact_json({name: "v"}, RALLY) == {name: MASK}
    assert redact_headers({name: "v"}) == {name: "v"}  # not a generic word: the system declares it


def test_octane_declares_its_session_cookie_name() -> None:
    assert redact_json({"LWSSO_COOKIE_KEY": "v", "name": "n"}, OCTANE) == {"LWSSO_COOKIE_KEY": MASK, "name": "n"}
    assert redact_text("LWSSO_COOKIE_KEY=abc", rules=OCTANE) == "LWSSO_COOKIE_KEY=%C2%ABredacted%C2%BB"


def test_url_user_info_and_query() -> None:
    assert redact_url("https://user:p@ss@h.example.com:8443/a/b?x=1#frag") == \
        "https://«redacted»@h.example.com:8443/a/b?x=1#frag"
    assert redact_url("https://h/ws?key=abc-123&fetch=Name", RALLY) == "https://h/ws?key=%C2%ABredacted%C2%BB&fetch=Name"
    assert redact_url("https://h/ws?KEY=abc", RALLY) == "https://h/ws?KEY=%C2%ABredacted%C2%BB"
    assert redact_url("https://h/ws?key=abc") == "https://h/ws?key=abc"  # elsewhere "key" is an issue key
    assert redact_url("https://h/ws?keys=a&monkey=b", RALLY) == "https://h/ws?keys=a&monkey=b"
    assert redact_url("https://h/ws?flag&x=") == "https://h/ws?flag=&x="
    assert redact_url("https://h/ws") == "https://h/ws"


def test_json_bodies() -> None:
    body = '  {"client_id": "id", "client_secret": "s3cr3t", "list": [{"token": "t"}], "é": "日本"}'
    assert json.loads(redact_text(body)) == {"client_id": "id", "client_secret": MASK, "list": [{"token": MASK}],
                                             "é": "日本"}
    assert "日本" in redact_text(body)  # not \u-escaped
    assert json.loads(redact_text('[{"password": "x"}]')) == [{"password": MASK}]
    assert redact_text("{not json, password=x") == "{not json, password=x"  # left as it is, scrubbed only
    assert redact_text('{"key": "PROJ-1"}') == '{"key": "PROJ-1"}'  # in bodies "key" is an issue key


def test_form_bodies_only_when_they_look_like_one() -> None:
    assert redact_text("grant_type=client_credentials&client_secret=abc") == \
        "grant_type=client_credentials&client_secret=%C2%ABredacted%C2%BB"
    assert redact_text("password=abc") == "password=%C2%ABredacted%C2%BB"
    assert redact_text("password=abc\nmore") == "password=abc\nmore"  # not a form: several lines
    assert redact_text("the password=abc") == "the password=abc"  # not a form: words
    assert redact_text("no equals sign, password") == "no equals sign, password"
    assert redact_text("=") == "="
    assert redact_text("a=&password=x&b") == "a=&password=%C2%ABredacted%C2%BB&b="  # blank values are kept


def test_known_secret_values_are_scrubbed_also_url_encoded() -> None:
    assert redact_text("Bearer abcd and abc", ["abcd", "abc"]) == f"Bearer {MASK} and abc"  # < 4: kept
    assert redact_text("v=a%2Fb%3Dc", ["a/b=c"]) == f"v={MASK}"
    assert scrub("x a/b=c y", ["a/b=c"]) == f"x {MASK} y"
    assert scrub("pre-secret-123 and secret", ["secret", "pre-secret-123"]) == f"{MASK} and {MASK}"
    assert scrub("nothing", ["", "none"]) == "nothing"
    assert scrub("s3cr3t s3cr3t", ["s3cr3t"]) == f"{MASK} {MASK}"
