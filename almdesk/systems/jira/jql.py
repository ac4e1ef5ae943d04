"""Building JQL safely: string literals, text-search phrases and the clauses almdesk sends.

Two layers of escaping meet in a text search. The operand of ``~`` is a Lucene query, where
``+ - & | ! ( ) { } [ ] ^ " ~ * ? : \\ /`` are special and are escaped with a backslash; that query is
then written as a JQL string literal, where ``\\`` and ``"`` are escaped again. So the summary
``T21: a "b"`` is searched as ``summary ~ "\\"T21\\\\: a \\\\\\"b\\\\\\"\\""``.
"""

from __future__ import annotations

from collections.abc import Iterable

LUCENE_SPECIAL = frozenset('+-&|!(){}[]^"~*?:\\/')
_JQL_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def quote(value: str) -> str:
    """A JQL string literal holding exactly ``value`` (safe for reserved words and characters)."""
    return '"' + "".join(_JQL_ESCAPES.get(ch, ch) for ch in value) + '"'


def lucene_escape(text: str) -> str:
    """Escape Lucene's special characters so text search reads them literally."""
    return "".join("\\" + ch if ch in LUCENE_SPECIAL else ch for ch in text)


def phrase(text: str) -> str:
    """A Lucene phrase query for ``text`` (words in this order)."""
    return '"' + lucene_escape(text) + '"'


def text_contains(field: str, text: str) -> str:
    """``field ~ "\\"text\\""``: issues whose field contains the words of ``text`` as a phrase."""
    return f"{field} ~ {quote(phrase(text))}"


def equals(field: str, value: str) -> str:
    return f"{field} = {quote(value)}"


def one_of(field: str, values: Iterable[str], negate: bool = False) -> str:
    items = ", ".join(quote(v) for v in values)
    return f"{field} {'not in' if negate else 'in'} ({items})"


def conjunction(clauses: Iterable[str], order_by: str = "") -> str:
    text = " AND ".join(c for c in clauses if c)
    return f"{text} ORDER BY {order_by}" if order_by else text
