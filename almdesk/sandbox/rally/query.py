"""The Rally WSAPI query language, parsed for real: ``((A = "x") AND ((B contains y) OR (C != null)))``.

Grammar (what Rally accepts, KB 131936): every term is parenthesised and conjunctions are binary
only, so ``(A) AND (B) AND (C)`` must be written ``(((A) AND (B)) AND (C))``. A clause is
``attribute operator value`` where the attribute may be a dotted path (``WorkProduct.FormattedID``,
``Tags.Name``), the operator one of ``= != < <= > >= contains !contains in !in`` and the value
either a double-quoted string (``\\"`` and ``\\\\`` escape a quote and a backslash) or a bare word
that runs to the clause's closing parenthesis. The bare word ``null`` means no value.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

WORD_OPERATORS = ("!contains", "contains", "!in", "in")
SYMBOL_OPERATORS = ("!=", "<=", ">=", "=", "<", ">")
ATTR_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.")


class QueryError(Exception):
    """A query Rally would answer with ``Could not parse: …`` in ``Errors``."""


@dataclass(frozen=True)
class Clause:
    path: tuple[str, ...]
    op: str
    value: str | None  # None for the bare word null
    quoted: bool = False


@dataclass(frozen=True)
class Binary:
    left: Node
    conj: str  # AND | OR
    right: Node


Node = Clause | Binary


@dataclass(frozen=True)
class Ref:
    """A reference value (an object's ObjectID) as an attribute resolves it."""

    oid: int


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def error(self, what: str) -> QueryError:
        return QueryError(f"Error parsing expression -- {what} at position {self.pos + 1} of {self.text!r}")

    def skip_ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, char: str) -> None:
        self.skip_ws()
        if self.peek() != char:
            seen = self.peek() or "the end of the query"
            raise self.error(f'expected "{char}" but saw "{seen}" instead')
        self.pos += 1

    def expr(self) -> Node:
        self.expect("(")
        self.skip_ws()
        if self.peek() == "(":
            left = self.expr()
            self.skip_ws()
            if self.peek() == ")":
                self.pos += 1
                return left
            conj = self.word()
            if conj.upper() not in ("AND", "OR"):
                raise self.error(f'expected AND or OR but saw "{conj or self.peek()}"')
            self.skip_ws()
            if self.peek() != "(":
                raise self.error(f'expected "(" after {conj.upper()}; Rally needs each term in parentheses')
            right = self.expr()
            self.expect(")")
            return Binary(left, conj.upper(), right)
        return self.clause()

    def word(self) -> str:
        start = self.pos
        while self.pos < len(self.text) and not self.text[self.pos].isspace() and self.text[self.pos] not in "()":
            self.pos += 1
        return self.text[start:self.pos]

    def clause(self) -> Clause:
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] in ATTR_CHARS:
            self.pos += 1
        attr = self.text[start:self.pos]
        if not attr or attr.startswith(".") or attr.endswith(".") or ".." in attr:
            raise self.error("expected an attribute name")
        self.skip_ws()
        op = self.operator()
        self.skip_ws()
        if self.peek() == '"':
            value: str | None = self.quoted()
            quoted = True
            self.expect(")")
        else:
            end = self.text.find(")", self.pos)
            if end < 0:
                raise self.error('expected ")" to close the clause')
            raw = self.text[self.pos:end].strip()
            if not raw:
                raise self.error(f"expected a value after {op}")
            if '"' in raw:
                raise self.error("a value with a double quote must be written in double quotes")
            self.pos = end + 1
            value = None if raw == "null" else raw
            quoted = False
        return Clause(tuple(attr.split(".")), op, value, quoted)

    def operator(self) -> str:
        rest = self.text[self.pos:]
        for op in WORD_OPERATORS:
            if rest[:len(op)].lower() == op and len(rest) > len(op) and rest[len(op)].isspace():
                self.pos += len(op)
                return op
        for op in SYMBOL_OPERATORS:
            if rest.startswith(op):
                self.pos += len(op)
                return op
        raise self.error(f'expected an operator but saw "{self.word() or self.peek()}"')

    def quoted(self) -> str:
        self.pos += 1
        out: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "\\" and self.pos + 1 < len(self.text) and self.text[self.pos + 1] in '"\\':
                out.append(self.text[self.pos + 1])
                self.pos += 2
                continue
            if char == '"':
                self.pos += 1
                return "".join(out)
            out.append(char)
            self.pos += 1
        raise self.error("unterminated quoted value")


def parse(text: str) -> Node:
    """Parse a query string; raise :class:`QueryError` with Rally-like wording when it is malformed."""
    parser = _Parser(text)
    node = parser.expr()
    parser.skip_ws()
    if parser.pos != len(text):
        raise parser.error(f'unexpected "{text[parser.pos:parser.pos + 20]}" after the end of the expression')
    return node


def clauses(node: Node) -> list[Clause]:
    """Every clause of a query tree, left to right."""
    if isinstance(node, Clause):
        return [node]
    return clauses(node.left) + clauses(node.right)


# A getter returns the values an attribute path resolves to for one item, and whether the path went
# through a collection (then a clause holds when any value matches, or, for negations, when none do).
Getter = Callable[[Any, tuple[str, ...]], tuple[list[Any], bool]]


def evaluate(node: Node, item: Any, getter: Getter) -> bool:
    if isinstance(node, Binary):
        if node.conj == "AND":
            return evaluate(node.left, item, getter) and evaluate(node.right, item, getter)
        return evaluate(node.left, item, getter) or evaluate(node.right, item, getter)
    values, multi = getter(item, node.path)
    negated = node.op in ("!=", "!contains", "!in")
    positive = {"!=": "=", "!contains": "contains", "!in": "in"}.get(node.op, node.op)
    if multi:
        hit = any(_compare(v, positive, node.value) for v in values)
        return not hit if negated else hit
    value = values[0] if values else None
    hit = _compare(value, positive, node.value)
    return not hit if negated else hit


def _literal_oid(literal: str) -> int | None:
    tail = literal.rstrip("/").rsplit("/", 1)[-1]
    tail = tail.split(".")[0]
    return int(tail) if tail.lstrip("-").isdigit() else None


def _compare(actual: Any, op: str, literal: str | None) -> bool:
    if op == "in":
        if literal is None:
            return actual is None
        return any(_compare(actual, "=", part.strip().strip('"')) for part in literal.split(","))
    if literal is None:
        return actual is None if op == "=" else False
    if actual is None:
        return False
    if isinstance(actual, Ref):
        if op != "=":
            raise QueryError(f"Error parsing expression -- operator {op} cannot be used with a reference")
        return _literal_oid(literal) == actual.oid
    if isinstance(actual, bool):
        if literal.lower() not in ("true", "false"):
            raise QueryError(f'Error parsing expression -- cannot convert "{literal}" to a boolean')
        wanted = literal.lower() == "true"
        return _order(actual, op, wanted) if op != "contains" else False
    if isinstance(actual, int | float):
        try:
            number = float(literal)
        except ValueError:
            raise QueryError(f'Error parsing expression -- cannot convert "{literal}" to a number') from None
        return False if op == "contains" else _order(float(actual), op, number)
    text = str(actual)
    if op == "contains":
        return literal.lower() in text.lower()
    if literal.lower() == "today" and _looks_like_date(text):
        literal = datetime.now(UTC).strftime("%Y-%m-%dT00:00:00.000Z")
    return _order(text, op, literal)


def _looks_like_date(text: str) -> bool:
    return len(text) >= 10 and text[4] == "-" and text[7] == "-" and text[:4].isdigit()


def _order(a: Any, op: str, b: Any) -> bool:
    if op == "=":
        return bool(a == b)
    if op == "<":
        return bool(a < b)
    if op == "<=":
        return bool(a <= b)
    if op == ">":
        return bool(a > b)
    if op == ">=":
        return bool(a >= b)
    raise QueryError(f"Error parsing expression -- unknown operator {op}")
