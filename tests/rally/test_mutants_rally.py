"""Rally WSAPI query builders and the gate's query, exactly.

Written against the mutation report (docs/mutation.md): every literal type, every operator, the
attribute-path guard and Rally's binary-only nesting, pinned to the exact text sent.
"""

from __future__ import annotations

import pytest

from almdesk.base.records import GateRequest
from almdesk.systems.rally import query as rq
from almdesk.systems.rally.actions import gate_query


def test_quote_escapes_backslash_then_quote() -> None:
    assert rq.quote('a "b" \\ c') == '"a \\"b\\" \\\\ c"'
    assert rq.quote('\\"') == '"\\\\\\""'
    assert rq.quote("") == '""'


@pytest.mark.parametrize(("value", "literal"), [
    (None, "null"), (True, "true"), (False, "false"), (0, "0"), (42, "42"), (1.5, "1.5"), ("42", '"42"'),
    ("null", '"null"'), ("a (AND) b", '"a (AND) b"'),
])
def test_clause_literals(value: str | int | float | bool | None, literal: str) -> None:
    assert rq.clause("Release.Name", "=", value) == f"(Release.Name = {literal})"


@pytest.mark.parametrize("op", ["=", "!=", "<", "<=", ">", ">=", "contains", "!contains"])
def test_every_rally_operator_is_accepted(op: str) -> None:
    assert rq.clause("Name", op, "x") == f'(Name {op} "x")'


@pytest.mark.parametrize("op", ["==", "", "CONTAINS ", "in", "<>"])
def test_unknown_operators_are_refused(op: str) -> None:
    with pytest.raises(ValueError, match="not a Rally operator"):
        rq.clause("Name", op, "x")


@pytest.mark.parametrize("attribute", ["", "1Name", "Name Space", "Name)", "a..b", ".Name", "Name.", "Name\n",
                                       "x Name"])
def test_attribute_paths_are_guarded(attribute: str) -> None:
    with pytest.raises(ValueError, match="not a Rally attribute path"):
        rq.clause(attribute, "=", "x")


@pytest.mark.parametrize("attribute", ["Name", "_x", "Release.Name", "Project.Parent.Name", "c_Custom9"])
def test_attribute_paths_accepted(attribute: str) -> None:
    assert rq.clause(attribute, "=", 1) == f"({attribute} = 1)"


def test_conjunctions_are_binary_and_skip_empty_terms() -> None:
    assert rq.all_of() is None and rq.all_of(None, "") is None
    assert rq.all_of("(a = 1)") == "(a = 1)"
    assert rq.all_of("(a)", None, "(b)", "(c)") == "(((a) AND (b)) AND (c))"
    assert rq.any_of("(a)", "(b)") == "((a) OR (b))"
    assert rq.any_of() is None


def test_one_of() -> None:
    assert rq.one_of("State", []) is None
    assert rq.one_of("State", ["Open"]) == '(State = "Open")'
    assert rq.one_of("State", ["Open", "Fixed"]) == '((State = "Open") OR (State = "Fixed"))'


def test_gate_query_strips_and_skips_blank_values() -> None:
    request = GateRequest(release=" R 1 ", phases=["Open", " ", " Fixed "], severities=["", "High"],
                          labels=["ui", "  "])
    assert gate_query(request) == ('((((Release.Name = "R 1") AND ((State = "Open") OR (State = "Fixed"))) '
                                   'AND (Severity = "High")) AND (Tags.Name = "ui"))')
    assert gate_query(GateRequest(release="  ", phases=[" "], labels=[""])) is None
    assert gate_query(GateRequest(labels=["a", "b"])) == '((Tags.Name = "a") AND (Tags.Name = "b"))'
