"""The sandbox's Rally query parser and evaluator, without HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from almdesk.sandbox.rally.query import Binary, Clause, QueryError, Ref, evaluate, parse


def test_simple_clause_with_quoted_and_bare_values() -> None:
    assert parse('(Name = "Fix the cart")') == Clause(("Name",), "=", "Fix the cart", True)
    assert parse("(FormattedID = US12)") == Clause(("FormattedID",), "=", "US12", False)
    assert parse("(Parent = null)") == Clause(("Parent",), "=", None, False)
    assert parse("(WorkProduct.FormattedID != US3)").path == ("WorkProduct", "FormattedID")


def test_binary_nesting_and_redundant_parentheses() -> None:
    node = parse('(((State = Open) AND (Severity contains "Major")) OR ((Name = x)))')
    assert isinstance(node, Binary) and node.conj == "OR"
    assert isinstance(node.left, Binary) and node.left.conj == "AND"
    assert node.right == Clause(("Name",), "=", "x", False)


def test_escaped_quotes_and_operator_words_inside_values() -> None:
    node = parse(r'(Name = "a \"quoted\" (AND) OR contains \\ x")')
    assert isinstance(node, Clause)
    assert node.value == 'a "quoted" (AND) OR contains \\ x'


@pytest.mark.parametrize("text", [
    "(A = 1) AND (B = 2)",          # conjunction without the outer parentheses
    "((A = 1) AND (B = 2) AND (C = 3))",  # conjunctions are binary only
    "(A = 1",
    '(Name = "unterminated)',
    "(Name)",
    "(= 3)",
    "((A = 1) XOR (B = 2))",
    "(Name = )",
    '(Name = a"b)',
])
def test_malformed_queries_are_rejected(text: str) -> None:
    with pytest.raises(QueryError):
        parse(text)


def _getter(item: dict[str, Any], path: tuple[str, ...]) -> tuple[list[Any], bool]:
    value: Any = item
    for name in path:
        value = value.get(name) if isinstance(value, dict) else None
    if isinstance(value, list):
        return value, True
    return [value], False


def test_evaluate_operators_types_and_collections() -> None:
    item = {"Name": "Speed up Search", "PlanEstimate": 5.0, "Blocked": False, "Project": Ref(42),
            "Tags": ["security", "ux"], "Parent": None, "Date": "2024-03-01T00:00:00.000Z"}
    assert evaluate(parse('(Name contains "search")'), item, _getter)  # contains ignores case
    assert not evaluate(parse('(Name = "speed up search")'), item, _getter)  # = does not
    assert evaluate(parse("(PlanEstimate >= 5)"), item, _getter)
    assert evaluate(parse("(Blocked = false)"), item, _getter)
    assert evaluate(parse("(Project = /project/42)"), item, _getter)
    assert evaluate(parse('(Project = "https://x/slm/webservice/v2.0/project/42")'), item, _getter)
    assert evaluate(parse("(Tags = security)"), item, _getter)
    assert evaluate(parse("(Tags != performance)"), item, _getter)
    assert not evaluate(parse("(Tags != ux)"), item, _getter)
    assert evaluate(parse("(Parent = null)"), item, _getter)
    assert evaluate(parse('(Date < "2024-04-01")'), item, _getter)
    assert evaluate(parse("(Name in Other, Speed up Search)"), item, _getter)
    with pytest.raises(QueryError):
        evaluate(parse("(PlanEstimate > many)"), item, _getter)
