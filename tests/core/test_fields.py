"""Field schema parsing: every kind gives a typed value or a message naming the field and the fix."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from almdesk.base.fields import Field, FieldErrors, FieldKind, parse_fields
from almdesk.base.records import normalize_operator
from almdesk.errors import ConfigError

FIELDS = (
    Field("url", "Server URL", FieldKind.URL, required=True),
    Field("n", "Page size", FieldKind.INT, default=10, minimum=1, maximum=100),
    Field("flag", "Verify", FieldKind.BOOL, default=True),
    Field("mode", "Mode", FieldKind.CHOICE, default="a", choices=("a", "b")),
    Field("phases", "Phases", FieldKind.MULTI_CHOICE, default=["x"], choices=("x", "y")),
)


def test_parses_typed_values() -> None:
    out = parse_fields(FIELDS, {"url": " https://h.example.com/ ", "n": "5", "flag": "no", "mode": "b",
                                "phases": "x, y"})
    assert out == {"url": "https://h.example.com", "n": 5, "flag": False, "mode": "b", "phases": ["x", "y"]}


def test_defaults_when_empty() -> None:
    out = parse_fields(FIELDS, {"url": "http://127.0.0.1:8080"})
    assert out["n"] == 10 and out["flag"] is True and out["phases"] == ["x"]


@pytest.mark.parametrize(("raw", "field", "words"), [
    ({}, "url", "Server URL is required"),
    ({"url": "jira.example.com"}, "url", "must start with https://"),
    ({"url": "https://h:99999"}, "url", "invalid port"),
    ({"url": "https://"}, "url", "no host name"),
    ({"url": "https://h", "n": "ten"}, "n", "whole number"),
    ({"url": "https://h", "n": "0"}, "n", "outside the allowed range"),
    ({"url": "https://h", "flag": "maybe"}, "flag", "true or false"),
    ({"url": "https://h", "mode": "c"}, "mode", "cannot be 'c'"),
    ({"url": "https://h", "phases": "x,z"}, "phases", "unknown value(s): z"),
    ({"url": "https://h", "typo": "1"}, "typo", "Unknown setting"),
])
def test_bad_values_name_the_field(raw: dict[str, str], field: str, words: str) -> None:
    with pytest.raises(FieldErrors) as info:
        parse_fields(FIELDS, raw)
    assert field in info.value.errors
    err = info.value.errors[field]
    assert words in err.message and err.field == field and err.hint


def test_all_errors_reported_at_once() -> None:
    with pytest.raises(FieldErrors) as info:
        parse_fields(FIELDS, {"url": "nope", "n": "x", "mode": "z"})
    assert set(info.value.errors) == {"url", "n", "mode"}


@pytest.mark.parametrize(("op", "norm"), [("<", "<"), ("<=", "<="), ("=", "="), ("==", "="), (">=", ">="),
                                          (">", ">"), ("LT", "<="), ("GT", ">="), ("EQ", "="), ("lt", "<=")])
def test_operators(op: str, norm: str) -> None:
    assert normalize_operator(op) == norm


def test_unknown_operator() -> None:
    with pytest.raises(ConfigError, match="not known"):
        normalize_operator("~")


@given(st.dictionaries(st.sampled_from(["url", "n", "flag", "mode", "phases", "zz"]), st.text(max_size=30)))
def test_parse_never_crashes(raw: dict[str, str]) -> None:
    try:
        parse_fields(FIELDS, raw)
    except ConfigError as exc:
        assert exc.message


def test_allow_empty_keeps_an_explicit_empty_value_but_a_missing_one_gets_the_default() -> None:
    fields = (Field("label", "Label", default="almdesk", allow_empty=True),
              Field("tags", "Tags", FieldKind.MULTI_CHOICE, default=["x"], choices=("x", "y"), allow_empty=True),
              Field("kind", "Kind", default="Bug"))
    assert parse_fields(fields, {}) == {"label": "almdesk", "tags": ["x"], "kind": "Bug"}
    cleared = parse_fields(fields, {"label": "  ", "tags": "", "kind": ""})
    assert cleared == {"label": "", "tags": [], "kind": "Bug"}  # kind has no allow_empty: empty asks for Bug
    assert parse_fields(fields, {"label": "sde", "tags": []}) == {"label": "sde", "tags": [], "kind": "Bug"}
    # a cleared value parses to itself again (what a reload and a second save do)
    assert parse_fields(fields, cleared) == cleared
