"""JQL builders, exactly: every Lucene special character escaped, every JQL escape, the clause shapes.

Written against the mutation report (docs/mutation.md): each assertion pins a behaviour that a
one-character change in ``almdesk.systems.jira.jql`` would otherwise alter unnoticed.
"""

from __future__ import annotations

import pytest

from almdesk.systems.jira import jql

# Lucene's query syntax reference: + - && || ! ( ) { } [ ] ^ " ~ * ? : \ /  (& and | escaped singly)
LUCENE = '+-&|!(){}[]^"~*?:\\/'


@pytest.mark.parametrize("ch", list(LUCENE))
def test_every_lucene_special_character_is_escaped(ch: str) -> None:
    assert jql.lucene_escape(f"a{ch}b") == f"a\\{ch}b"
    assert jql.phrase(ch) == f'"\\{ch}"'


def test_ordinary_characters_are_not_escaped() -> None:
    assert jql.lucene_escape("T21 plain text, é 日本 ; # % @ = ' .") == "T21 plain text, é 日本 ; # % @ = ' ."


def test_slash_in_text_search_is_escaped_for_lucene_then_for_jql() -> None:
    # a/b: Lucene needs a\/b (a bare / starts a regular expression); JQL doubles the backslash
    assert jql.text_contains("summary", "a/b") == 'summary ~ "\\"a\\\\/b\\""'


@pytest.mark.parametrize(("raw", "written"), [("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"),
                                              ("\t", "\\t")])
def test_every_jql_string_escape(raw: str, written: str) -> None:
    assert jql.quote(f"x{raw}y") == f'"x{written}y"'


def test_one_of_is_a_positive_list_by_default() -> None:
    assert jql.one_of("status", ["To Do", "Done"]) == 'status in ("To Do", "Done")'
    assert jql.one_of("status", ["Done"], negate=True) == 'status not in ("Done")'


def test_conjunction_joins_with_and_skips_empty_clauses_and_orders() -> None:
    assert jql.conjunction(["a = 1", "", "b = 2"]) == "a = 1 AND b = 2"
    assert jql.conjunction(["a = 1", "b = 2"], "key ASC") == "a = 1 AND b = 2 ORDER BY key ASC"
    assert jql.conjunction([], "") == ""
