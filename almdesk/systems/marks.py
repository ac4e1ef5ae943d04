"""The machine-readable mark of a connection's context on the ALM items almdesk creates.

Every item a sync creates carries one label (Jira, GitHub) or tag (Rally, Octane) naming the
connection's ``alm_context``: ``almdesk-ctx-<slug>-<hash>``. The slug is the context in lower-case
ASCII letters and digits (``default`` for the empty context) so people can read it; the hash (eight
hex digits of SHA-256 of the context as titles write it) tells apart contexts whose slugs agree
(``Shop Web`` and ``shop-web``). Marks contain no spaces and at most 45 characters, so they are
valid Jira labels (no spaces), GitHub label names (at most 50 characters), Rally tag names and
Octane user tag names, and they need no quoting in any query language.

A look-up by title prefers items carrying this connection's mark and never takes an item whose mark
names another context (:func:`mark_verdict`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

MARK_PREFIX = "almdesk-ctx-"
SLUG_MAX = 24
OURS, UNMARKED, OTHER = "ours", "unmarked", "other"


def clean_context(context: object) -> str:
    """The context as titles write it: one line, single spaces."""
    return " ".join(str(context or "").split())


def context_mark(context: object) -> str:
    """The mark (label/tag name) of ``context``; the empty context has one too."""
    text = clean_context(context)
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:SLUG_MAX].strip("-") or "default"
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]
    return f"{MARK_PREFIX}{slug}-{digest}"


def marks_in(names: Iterable[object]) -> tuple[str, ...]:
    """The almdesk context marks among an item's label or tag names (case kept, each once)."""
    out: list[str] = []
    for name in names:
        text = str(name or "")
        if text.lower().startswith(MARK_PREFIX) and text not in out:
            out.append(text)
    return tuple(out)


def mark_verdict(marks: Iterable[str], mine: str) -> str:
    """``ours`` when ``mine`` is among ``marks`` (case-insensitive: Jira and GitHub fold case in places),
    ``unmarked`` when there are none, ``other`` when only other contexts' marks are there."""
    found = [m.lower() for m in marks]
    if not found:
        return UNMARKED
    return OURS if mine.lower() in found else OTHER
