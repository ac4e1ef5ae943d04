"""Building Rally WSAPI queries with correct quoting and Rally's binary-only conjunctions.

``clause("Name", "=", 'say "hi" (AND) bye')`` gives ``(Name = "say \\"hi\\" (AND) bye")``;
``all_of(a, b, c)`` gives ``(((a) AND (b)) AND (c))`` shape, as Rally requires (it rejects
``(a) AND (b) AND (c)``). Values are always double-quoted, with backslash escapes for ``"`` and
``\\``, so quotes, parentheses and words like AND/OR/contains inside names cannot break a query.
"""

from __future__ import annotations

import re

OPERATORS = ("=", "!=", "<", "<=", ">", ">=", "contains", "!contains")
_ATTR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def quote(value: str) -> str:
    """A double-quoted Rally literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def clause(attribute: str, op: str, value: str | int | float | bool | None) -> str:
    """One parenthesised clause. ``None`` is written as the bare word null."""
    if not _ATTR.fullmatch(attribute):
        raise ValueError(f"not a Rally attribute path: {attribute!r}")
    if op not in OPERATORS:
        raise ValueError(f"not a Rally operator: {op!r}")
    if value is None:
        literal = "null"
    elif isinstance(value, bool):
        literal = "true" if value else "false"
    elif isinstance(value, int | float):
        literal = str(value)
    else:
        literal = quote(str(value))
    return f"({attribute} {op} {literal})"


def _join(conj: str, terms: list[str]) -> str | None:
    terms = [t for t in terms if t]
    if not terms:
        return None
    result = terms[0]
    for term in terms[1:]:
        result = f"({result} {conj} {term})"
    return result


def all_of(*terms: str | None) -> str | None:
    """AND the terms pairwise; ``None`` terms are skipped, no terms gives ``None`` (no query)."""
    return _join("AND", [t for t in terms if t])


def any_of(*terms: str | None) -> str | None:
    """OR the terms pairwise; ``None`` terms are skipped."""
    return _join("OR", [t for t in terms if t])


def one_of(attribute: str, values: list[str]) -> str | None:
    """``attribute = v1 OR attribute = v2 …`` (None for an empty list)."""
    return any_of(*(clause(attribute, "=", v) for v in values))
