"""JQL as the Jira sandbox understands it: a tokenizer and parser for the subset clients send.

Covers ``field op value`` clauses (``= != ~ !~ > >= < <= in, not in, is, is not``), ``AND``/``OR``/
``NOT`` with parentheses, quoted strings with JQL's escapes, lists, ``EMPTY``/``NULL`` and
``ORDER BY``. Errors carry Jira's wording ("Error in the JQL Query: …"). Text clauses (``~``) hold a
Lucene query string, parsed by :func:`parse_text_query` the way Jira's text search reads it: terms
and quoted phrases, backslash escapes, a trailing ``*`` wildcard.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# Atlassian's list of reserved JQL words: unquoted, they cannot be values.
RESERVED_WORDS = frozenset(["a", "an", "abort", "access", "add", "after", "alias", "all", "alter", "and", "any", "as", "asc", "audit", "avg", "before", "begin", "between", "boolean", "break", "by", "byte", "catch", "cf", "char", "character", "check", "checkpoint", "collate", "collation", "column", "commit", "connect", "continue", "count", "create", "current", "date", "decimal", "declare", "decrement", "default", "defaults", "define", "delete", "delimiter", "desc", "difference", "distinct", "divide", "do", "double", "drop", "else", "empty", "encoding", "end", "equals", "escape", "exclusive", "exec", "execute", "exists", "explain", "false", "fetch", "file", "field", "first", "float", "for", "from", "function", "go", "goto", "grant", "greater", "group", "having", "identified", "if", "immediate", "in", "increment", "index", "initial", "inner", "inout", "input", "insert", "int", "integer", "intersect", "intersection", "into", "is", "isempty", "isnull", "join", "last", "left", "less", "like", "limit", "lock", "long", "max", "min", "minus", "mode", "modify", "modulo", "more", "multiply", "next", "noaudit", "not", "notin", "nowait", "null", "number", "object", "of", "on", "option", "or", "order", "outer", "output", "power", "previous", "prior", "privileges", "public", "raise", "raw", "remainder", "rename", "resource", "return", "returns", "revoke", "right", "row", "rowid", "rownum", "rows", "select", "session", "set", "share", "size", "sqrt", "start", "strict", "string", "subtract", "sum", "synonym", "table", "then", "to", "trans", "transaction", "trigger", "true", "uid", "union", "unique", "update", "user", "validate", "values", "view", "when", "whenever", "where", "while", "with"])

# Characters that must be quoted (or \u-escaped) outside strings.
RESERVED_CHARS = frozenset("+;?|*/%^$#@[]")
_SPECIAL = frozenset(" \t\r\n\"'(),=!<>~&|")
_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "n": "\n", "r": "\r", "t": "\t", " ": " "}
OPERATORS = ("!=", "!~", ">=", "<=", "=", "~", ">", "<")


class JqlError(Exception):
    """A query Jira would reject with 400; the message is Jira's wording."""


@dataclass
class Token:
    kind: str  # word | string | op | ( | ) | , | eof
    text: str
    pos: int  # 1-based character position


@dataclass
class Value:
    text: str
    quoted: bool = False


@dataclass
class Empty:
    pass


@dataclass
class FunctionCall:
    name: str
    args: list[str] = field(default_factory=list)


Operand = Value | list[Value] | Empty | FunctionCall


@dataclass
class Clause:
    field: str
    op: str  # = != ~ !~ > >= < <= in "not in" is "is not"
    operand: Operand
    pos: int = 0


@dataclass
class And:
    items: list[Node]


@dataclass
class Or:
    items: list[Node]


@dataclass
class Not:
    item: Node


Node = Clause | And | Or | Not


@dataclass
class Query:
    where: Node | None
    order_by: list[tuple[str, bool]]  # (field, descending)


def _error(text: str, pos: int) -> JqlError:
    return JqlError(f"Error in the JQL Query: {text} (line 1, character {pos})")


def tokenize(jql: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(jql)
    while i < n:
        ch = jql[i]
        if ch.isspace():
            i += 1
            continue
        start = i + 1
        if ch in "\"'":
            text, i = _read_string(jql, i)
            tokens.append(Token("string", text, start))
            continue
        if ch in "(),":
            tokens.append(Token(ch, ch, start))
            i += 1
            continue
        if jql.startswith("&&", i) or jql.startswith("||", i):
            tokens.append(Token("word", "and" if ch == "&" else "or", start))
            i += 2
            continue
        op = next((o for o in OPERATORS if jql.startswith(o, i)), None)
        if op:
            tokens.append(Token("op", op, start))
            i += len(op)
            continue
        if ch == "!":
            tokens.append(Token("word", "not", start))
            i += 1
            continue
        word, i = _read_word(jql, i)
        tokens.append(Token("word", word, start))
    tokens.append(Token("eof", "", n + 1))
    return tokens


def _read_escape(jql: str, i: int) -> tuple[str, int]:
    """Decode the escape at ``jql[i] == '\\'``; return the character and the next index."""
    nxt = jql[i + 1] if i + 1 < len(jql) else ""
    if nxt in _ESCAPES and nxt:
        return _ESCAPES[nxt], i + 2
    if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", jql[i + 2:i + 6]):
        return chr(int(jql[i + 2:i + 6], 16)), i + 6
    raise _error(f"'\\{nxt}' is an illegal JQL escape sequence. The valid escape sequences are \\', \\\", "
                 "\\t, \\n, \\r, \\\\, '\\ ' and \\uXXXX.", i + 1)


def _read_string(jql: str, i: int) -> tuple[str, int]:
    quote = jql[i]
    start = i + 1
    i += 1
    out: list[str] = []
    while i < len(jql):
        ch = jql[i]
        if ch == "\\":
            decoded, i = _read_escape(jql, i)
            out.append(decoded)
            continue
        if ch == quote:
            return "".join(out), i + 1
        out.append(ch)
        i += 1
    raise _error(f"Missing closing quote ({quote}) for the string that starts at character {start}.", start)


def _read_word(jql: str, i: int) -> tuple[str, int]:
    out: list[str] = []
    while i < len(jql):
        ch = jql[i]
        if ch == "\\":
            decoded, i = _read_escape(jql, i)
            out.append(decoded)
            continue
        if ch in _SPECIAL:
            break
        if ch == "[" and "".join(out).lower() == "cf":
            end = jql.find("]", i)
            if end > i:
                out.append(jql[i:end + 1])
                i = end + 1
                continue
        if ch in RESERVED_CHARS:
            raise _error(f"The character '{ch}' is a reserved JQL character. You must enclose it in a string "
                         f"or use the escape '\\u{ord(ch):04x}' instead.", i + 1)
        out.append(ch)
        i += 1
    return "".join(out), i


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.i = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def is_word(self, *words: str) -> bool:
        return self.tok.kind == "word" and self.tok.text.lower() in words

    def parse(self) -> Query:
        where: Node | None = None
        if not (self.tok.kind == "eof" or self.is_word("order")):
            where = self.or_expr()
        order_by: list[tuple[str, bool]] = []
        if self.is_word("order"):
            self.take()
            if not self.is_word("by"):
                raise _error(f"Expecting 'by' but got '{self.tok.text}'.", self.tok.pos)
            self.take()
            order_by = self.sort_list()
        if self.tok.kind != "eof":
            raise _error(f"Expecting either 'OR' or 'AND' but got '{self.tok.text}'.", self.tok.pos)
        return Query(where, order_by)

    def sort_list(self) -> list[tuple[str, bool]]:
        out: list[tuple[str, bool]] = []
        while True:
            tok = self.take()
            if tok.kind not in ("word", "string") or not tok.text:
                raise _error(f"Expecting a field name at the end of the query but got '{tok.text}'.", tok.pos)
            desc = False
            if self.is_word("asc", "desc"):
                desc = self.take().text.lower() == "desc"
            out.append((tok.text, desc))
            if self.tok.kind != ",":
                return out
            self.take()

    def or_expr(self) -> Node:
        items = [self.and_expr()]
        while self.is_word("or"):
            self.take()
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else Or(items)

    def and_expr(self) -> Node:
        items = [self.not_expr()]
        while self.is_word("and"):
            self.take()
            items.append(self.not_expr())
        return items[0] if len(items) == 1 else And(items)

    def not_expr(self) -> Node:
        if self.is_word("not"):
            self.take()
            return Not(self.not_expr())
        if self.tok.kind == "(":
            self.take()
            node = self.or_expr()
            if self.tok.kind != ")":
                raise _error(f"Expecting ')' but got '{self.tok.text}'.", self.tok.pos)
            self.take()
            return node
        return self.clause()

    def clause(self) -> Clause:
        tok = self.take()
        if tok.kind not in ("word", "string") or (tok.kind == "word" and tok.text.lower() in ("and", "or")):
            shown = tok.text or "<EOF>"
            raise _error(f"Expecting a field name but got '{shown}'.", tok.pos)
        name = tok.text
        op_tok = self.tok
        if op_tok.kind == "op":
            op = self.take().text
        elif self.is_word("in"):
            self.take()
            op = "in"
        elif self.is_word("is"):
            self.take()
            op = "is"
            if self.is_word("not"):
                self.take()
                op = "is not"
        elif self.is_word("not"):
            self.take()
            if not self.is_word("in"):
                raise _error(f"Expecting 'IN' after 'NOT' but got '{self.tok.text}'.", self.tok.pos)
            self.take()
            op = "not in"
        else:
            shown = op_tok.text or "<EOF>"
            raise _error(f"Expecting operator but got '{shown}'. The valid operators are '=', '!=', '<', '>', "
                         "'<=', '>=', '~', '!~', 'IN', 'NOT IN', 'IS' and 'IS NOT'.", op_tok.pos)
        return Clause(name, op, self.operand(op), tok.pos)

    def operand(self, op: str) -> Operand:
        if op in ("in", "not in"):
            if self.tok.kind != "(":
                raise _error(f"Expecting '(' after '{op.upper()}' but got '{self.tok.text}'.", self.tok.pos)
            self.take()
            values = [self.single_value()]
            while self.tok.kind == ",":
                self.take()
                values.append(self.single_value())
            if self.tok.kind != ")":
                raise _error(f"Expecting ')' but got '{self.tok.text}'.", self.tok.pos)
            self.take()
            return values
        if self.is_word("empty", "null"):
            self.take()
            return Empty()
        if op in ("is", "is not"):
            raise _error(f"Expecting 'EMPTY' or 'NULL' after '{op.upper()}' but got '{self.tok.text}'.",
                         self.tok.pos)
        value = self.single_value()
        if self.tok.kind == "(" and not value.quoted:
            self.take()
            args: list[str] = []
            while self.tok.kind != ")":
                arg = self.take()
                if arg.kind == "eof":
                    raise _error("Expecting ')' to close the function call.", arg.pos)
                if arg.kind in ("word", "string"):
                    args.append(arg.text)
            self.take()
            return FunctionCall(value.text, args)
        return value

    def single_value(self) -> Value:
        tok = self.take()
        if tok.kind == "string":
            return Value(tok.text, True)
        if tok.kind == "word" and tok.text:
            if tok.text.lower() in RESERVED_WORDS:
                raise _error(f"'{tok.text}' is a reserved JQL word. You must surround it in quotation marks to "
                             "use it in a query.", tok.pos)
            return Value(tok.text, False)
        shown = tok.text or "<EOF>"
        raise _error(f"Expecting either a value, list or function but got '{shown}'. You must surround '{shown}' "
                     "in quotation marks to use it as a value.", tok.pos)


def parse(jql: str) -> Query:
    """Parse a JQL query; raises :class:`JqlError` with Jira's wording."""
    return _Parser(tokenize(jql or "")).parse()


# ---------------------------------------------------------------------------------------------
# Text search (the operand of ~): a Lucene query string over Jira's word tokens

LUCENE_SPECIAL = frozenset('+-&|!(){}[]^"~*?:\\/')
_WORD_RE = re.compile(r"[^\W_]+")


@dataclass
class TextTerm:
    tokens: list[str]  # consecutive word tokens (a phrase, or a term the analyzer split)
    prefix: bool = False  # trailing * on a bare term
    negated: bool = False
    raw: str = ""  # the term or phrase text with Lucene escapes removed


def words(text: str) -> list[str]:
    """Jira's analyzer, simplified: lower-cased runs of letters and digits."""
    return _WORD_RE.findall(text.lower())


def parse_text_query(query: str, field_name: str = "summary") -> list[TextTerm]:
    """Read a Lucene query string as Jira's text search does (terms AND-ed, "phrases", \\ escapes)."""
    bad = JqlError(f"The text query '{query}' for field '{field_name}' is not valid: probably your use of "
                   "wildcard characters is not correct.")
    terms: list[TextTerm] = []
    i, n = 0, len(query)
    while i < n:
        ch = query[i]
        if ch.isspace():
            i += 1
            continue
        negated = False
        if ch in "+-" and i + 1 < n and not query[i + 1].isspace():
            negated = ch == "-"
            i += 1
            ch = query[i]
        if ch == '"':
            i += 1
            buf: list[str] = []
            while i < n and query[i] != '"':
                if query[i] == "\\" and i + 1 < n:
                    buf.append(query[i + 1])
                    i += 2
                    continue
                buf.append(query[i])
                i += 1
            if i >= n:
                raise bad
            i += 1
            terms.append(TextTerm(words("".join(buf)), negated=negated, raw="".join(buf)))
            continue
        buf = []
        prefix = False
        while i < n and not query[i].isspace():
            c = query[i]
            if c == "\\":
                if i + 1 >= n:
                    raise bad
                buf.append(query[i + 1])
                i += 2
                continue
            if c == "*" and (i + 1 >= n or query[i + 1].isspace()) and buf:
                prefix = True
                i += 1
                break
            if c in LUCENE_SPECIAL:
                raise bad
            buf.append(c)
            i += 1
        term = "".join(buf)
        if term in ("AND", "&&") and not prefix:
            continue
        if term in ("OR", "NOT", "||"):
            raise JqlError(f"The text query '{query}' for field '{field_name}' uses {term}, which this sandbox "
                           "does not support.")
        terms.append(TextTerm(words(term), prefix=prefix, negated=negated, raw=term))
    return terms


def _contains(haystack: list[str], needle: list[str], prefix: bool) -> bool:
    if not needle:
        return False
    k = len(needle)
    for start in range(len(haystack) - k + 1):
        window = haystack[start:start + k]
        if window[:-1] == needle[:-1] and (
                window[-1] == needle[-1] or (prefix and window[-1].startswith(needle[-1]))):
            return True
    return False


def text_matches(terms: list[TextTerm], text: str) -> bool:
    """True when every non-negated term occurs in ``text`` and no negated one does."""
    hay = words(text)
    positive = [t for t in terms if not t.negated and t.tokens]
    if not positive:
        return False
    return all(_contains(hay, t.tokens, t.prefix) != t.negated for t in terms if t.tokens)
