"""Building Octane query statements (``query="…"``) with values escaped correctly.

String values go between ``^…^`` with a backslash before ``\\ ^ ' " ( ) *`` so a name such as
``R&D (beta); 'Q3' ^x^ || "y"`` matches itself exactly; :func:`pattern` keeps ``*`` as a wildcard.
"""

from __future__ import annotations

from collections.abc import Iterable

_SPECIAL = set("\\^'\"()*")


def escape(value: str, *, wildcards: bool = False) -> str:
    """Backslash-escape the characters special inside an Octane string literal."""
    return "".join(("\\" + ch) if ch in _SPECIAL and not (wildcards and ch == "*") else ch for ch in value)


def literal(value: str) -> str:
    """An exact string literal: ``^…^`` with everything escaped."""
    return f"^{escape(value)}^"


def pattern(value: str) -> str:
    """A string literal where ``*`` stays a wildcard."""
    return f"^{escape(value, wildcards=True)}^"


def eq(field: str, value: str | int) -> str:
    if isinstance(value, int):
        return f"{field} EQ {value}"
    return f"{field} EQ {literal(value)}"


def ref(field: str, inner: str) -> str:
    """A reference filter: ``field EQ {inner}``."""
    return f"{field} EQ {{{inner}}}"


def ref_id(field: str, ident: str) -> str:
    return ref(field, eq("id", ident))


def null_ref(field: str) -> str:
    return f"{field} EQ {{null}}"


def any_of(clauses: Iterable[str]) -> str:
    """``(a)||(b)`` grouped in parentheses, or '' for none."""
    parts = [c for c in clauses if c]
    if not parts:
        return ""
    if len(parts) == 1:
        return parts[0]
    return "(" + "||".join(f"({p})" for p in parts) + ")"


def all_of(clauses: Iterable[str]) -> str:
    return ";".join(c for c in clauses if c)


def negate(clause: str) -> str:
    return f"!({clause})"


def quoted(statement: str) -> str:
    """The value of the ``query`` URL parameter: the statement between double quotes."""
    return f'"{statement}"'
