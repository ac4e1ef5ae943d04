"""The ALM Octane query language subset that clients use, parsed for real and evaluated on dicts.

Grammar (``query="…"`` with the outer double quotes already removed)::

    expr    := and ('||' and)*
    and     := unary (';' unary)*
    unary   := '!' unary | '(' expr ')' | phrase
    phrase  := FIELD OP value            OP: EQ LT GT LE GE IN BTW (also = < > <= >=)
    value   := STRING | NUMBER | true | false | null | '{' 'null' '}' | '{' expr '}' | '[' NAME ']'
    IN      := value (',' value)*        BTW := value '...' value

Strings are ``'…'`` or ``^…^``; a backslash makes the next character literal; an unescaped ``*``
is a wildcard. ``{ … }`` after a reference field filters the referenced entity (nestable).
String comparison is case-insensitive, like Octane's database collation.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

OPERATORS = {"EQ": "EQ", "LT": "LT", "GT": "GT", "LE": "LE", "GE": "GE", "IN": "IN", "BTW": "BTW",
             "=": "EQ", "<": "LT", ">": "GT", "<=": "LE", ">=": "GE"}


class QueryError(ValueError):
    """A query that does not parse; ``position`` is the character offset of the problem."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} at position {position}")
        self.position = position


# --- tokens ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    kind: str  # STR NUM WORD OP ( ) { } [ ] ; || ! , ... END
    value: Any
    pos: int
    wildcard: bool = False  # STR with an unescaped *


@dataclass(frozen=True)
class Pattern:
    """A string literal: its text and, if it has unescaped ``*``, a regex."""

    text: str
    regex: re.Pattern[str] | None = None

    def matches(self, value: str) -> bool:
        if self.regex is not None:
            return self.regex.fullmatch(value) is not None
        return value.casefold() == self.text.casefold()


def _read_string(text: str, start: int) -> tuple[Pattern, int]:
    quote = text[start]
    i = start + 1
    literal: list[str] = []
    regex: list[str] = []
    wildcard = False
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            if i + 1 >= len(text):
                raise QueryError("dangling backslash in string", i)
            nxt = text[i + 1]
            literal.append(nxt)
            regex.append(re.escape(nxt))
            i += 2
            continue
        if ch == quote:
            pattern = re.compile("".join(regex), re.IGNORECASE | re.DOTALL) if wildcard else None
            return Pattern("".join(literal), pattern), i + 1
        if ch == "*":
            wildcard = True
            regex.append(".*")
        else:
            regex.append(re.escape(ch))
        literal.append(ch)
        i += 1
    raise QueryError(f"string starting with {quote} is not closed", start)


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
_NUM = re.compile(r"-?\d+(\.\d+)?(?![A-Za-z_])")


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch in "'^":
            pattern, end = _read_string(text, i)
            tokens.append(Token("STR", pattern, i))
            i = end
            continue
        if text.startswith("||", i):
            tokens.append(Token("||", "||", i))
            i += 2
            continue
        if text.startswith("...", i):
            tokens.append(Token("...", "...", i))
            i += 3
            continue
        if text.startswith("<=", i) or text.startswith(">=", i):
            tokens.append(Token("OP", OPERATORS[text[i:i + 2]], i))
            i += 2
            continue
        if ch in "=<>":
            tokens.append(Token("OP", OPERATORS[ch], i))
            i += 1
            continue
        if ch in "(){}[];!,":
            tokens.append(Token(ch, ch, i))
            i += 1
            continue
        m = _NUM.match(text, i)
        if m:
            tokens.append(Token("NUM", m.group(0), i))
            i = m.end()
            continue
        m = _WORD.match(text, i)
        if m:
            word = m.group(0)
            if word in OPERATORS:
                tokens.append(Token("OP", OPERATORS[word], i))
            else:
                tokens.append(Token("WORD", word, i))
            i = m.end()
            continue
        raise QueryError(f"unexpected character {ch!r}", i)
    tokens.append(Token("END", None, len(text)))
    return tokens


# --- syntax tree ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Or:
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class And:
    parts: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    part: Node


@dataclass(frozen=True)
class Compare:
    field: str
    op: str
    values: tuple[Any, ...]  # Pattern | str (number/word) | bool | None | Node (reference filter) | Macro


@dataclass(frozen=True)
class Macro:
    name: str  # current_user, current_release…


Node = Or | And | Not | Compare


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.i = 0

    def peek(self) -> Token:
        return self.tokens[self.i]

    def take(self, kind: str | None = None) -> Token:
        tok = self.tokens[self.i]
        if kind is not None and tok.kind != kind:
            expected = "end of query" if kind == "END" else repr(kind)
            found = "end of query" if tok.kind == "END" else repr(tok.value)
            raise QueryError(f"expected {expected}, found {found}", tok.pos)
        self.i += 1
        return tok

    def parse(self) -> Node:
        node = self.expr()
        self.take("END")
        return node

    def expr(self) -> Node:
        parts = [self.conj()]
        while self.peek().kind == "||":
            self.take()
            parts.append(self.conj())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def conj(self) -> Node:
        parts = [self.unary()]
        while self.peek().kind == ";":
            self.take()
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def unary(self) -> Node:
        tok = self.peek()
        if tok.kind == "!":
            self.take()
            return Not(self.unary())
        if tok.kind == "(":
            self.take()
            node = self.expr()
            self.take(")")
            return node
        return self.phrase()

    def phrase(self) -> Node:
        field = self.take("WORD").value
        op = self.take("OP").value
        if op == "IN":
            values = [self.value()]
            while self.peek().kind == ",":
                self.take()
                values.append(self.value())
            return Compare(field, op, tuple(values))
        if op == "BTW":
            low = self.value()
            self.take("...")
            return Compare(field, op, (low, self.value()))
        return Compare(field, op, (self.value(),))

    def value(self) -> Any:
        tok = self.take()
        if tok.kind == "STR":
            return tok.value
        if tok.kind == "NUM":
            return tok.value
        if tok.kind == "WORD":
            low = tok.value.lower()
            if low == "null":
                return None
            if low in ("true", "false"):
                return low == "true"
            return Pattern(tok.value)
        if tok.kind == "{":
            nxt = self.peek()
            if nxt.kind == "WORD" and nxt.value.lower() == "null" and self.tokens[self.i + 1].kind == "}":
                self.take()
                self.take("}")
                return None
            node = self.expr()
            self.take("}")
            return node
        if tok.kind == "[":
            name = self.take("WORD").value
            self.take("]")
            return Macro(name)
        found = "end of query" if tok.kind == "END" else repr(tok.value)
        raise QueryError(f"expected a value, found {found}", tok.pos)


def parse(text: str) -> Node:
    """Parse a query statement (without its surrounding double quotes)."""
    return _Parser(text).parse()


# --- evaluation -----------------------------------------------------------------------------

Resolver = Callable[[Mapping[str, Any]], Mapping[str, Any] | None]  # reference {type,id} -> entity


@dataclass
class Context:
    """What evaluation needs besides the entity: reference lookup and macro values."""

    resolve: Resolver
    macros: Mapping[str, Any]


def _scalar(value: Any) -> Any:
    if isinstance(value, Pattern):
        return value.text
    return value


def _as_number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _order(a: Any, b: Any) -> int:
    """Compare a field value with a literal: numbers numerically, others as text (ISO dates sort)."""
    na, nb = _as_number(a), _as_number(b)
    if na is not None and nb is not None:
        return (na > nb) - (na < nb)
    sa, sb = str(a).casefold(), str(b).casefold()
    return (sa > sb) - (sa < sb)


def _refs(value: Any) -> list[Mapping[str, Any]] | None:
    """The references held by a reference/multi-reference field value, or None if it is not one."""
    if isinstance(value, Mapping):
        if "data" in value and isinstance(value["data"], list):
            return [v for v in value["data"] if isinstance(v, Mapping)]
        if "type" in value and "id" in value:
            return [value]
    if isinstance(value, list) and all(isinstance(v, Mapping) for v in value):
        return list(value)
    return None


def _equal(field_value: Any, literal: Any, ctx: Context) -> bool:
    if isinstance(literal, Macro):
        literal = ctx.macros.get(literal.name)
        if isinstance(literal, Mapping):
            held = _refs(field_value) or []
            return any(str(r.get("id")) == str(literal.get("id")) for r in held)
    refs = _refs(field_value)
    if literal is None:
        return field_value is None or refs == []
    if isinstance(literal, Or | And | Not | Compare):
        if not refs:
            return False
        for ref in refs:
            target = ctx.resolve(ref)
            if target is not None and evaluate(literal, target, ctx):
                return True
        return False
    if refs is not None:  # reference compared with a plain id
        return any(_equal(r.get("id"), literal, ctx) for r in refs)
    if field_value is None:
        return False
    if isinstance(literal, bool):
        return bool(field_value) is literal
    if isinstance(literal, Pattern):
        return literal.matches(str(field_value))
    return _order(field_value, literal) == 0


def _compare(node: Compare, entity: Mapping[str, Any], ctx: Context) -> bool:
    if node.field not in entity:
        raise KeyError(node.field)
    value = entity.get(node.field)
    op = node.op
    if op == "EQ":
        return _equal(value, node.values[0], ctx)
    if op == "IN":
        return any(_equal(value, v, ctx) for v in node.values)
    if value is None:
        return False
    if op == "BTW":
        low, high = (_scalar(v) for v in node.values)
        return _order(value, low) >= 0 and _order(value, high) <= 0
    cmp = _order(value, _scalar(node.values[0]))
    return {"LT": cmp < 0, "GT": cmp > 0, "LE": cmp <= 0, "GE": cmp >= 0}[op]


def evaluate(node: Node, entity: Mapping[str, Any], ctx: Context) -> bool:
    """True when ``entity`` matches. Raises KeyError naming a field the entity does not have."""
    if isinstance(node, Or):
        return any(evaluate(p, entity, ctx) for p in node.parts)
    if isinstance(node, And):
        return all(evaluate(p, entity, ctx) for p in node.parts)
    if isinstance(node, Not):
        return not evaluate(node.part, entity, ctx)
    return _compare(node, entity, ctx)


def fields_of(node: Node) -> set[str]:
    """Top-level field names a query filters on (to report unknown fields before evaluating)."""
    if isinstance(node, Or | And):
        out: set[str] = set()
        for p in node.parts:
            out |= fields_of(p)
        return out
    if isinstance(node, Not):
        return fields_of(node.part)
    return {node.field}
