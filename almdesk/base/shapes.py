"""Reading the parts of a server's answer a client relies on, with their types checked.

A listing whose list is null, missing or not a list, or whose item has a title that is not text, is
no empty listing: read as one, a sync would create every task again. These readers raise
:class:`BadAnswer` (a RemoteError) naming the server, what was read and what was wrong, so the
caller stops before it writes anything; they never guess a default for what the API defines.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from almdesk.errors import RemoteError

HINT = ("The server or a proxy in front of it sent an answer that does not follow its API. almdesk stopped "
        "before changing anything; try again, and if it keeps happening send the support bundle.")


class BadAnswer(RemoteError):
    """An answer that lacks, or mistypes, a part the API defines."""


def kind(value: Any) -> str:
    """How ``value`` looks, in words ("null", "a number", "text"…)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def listing(container: Any, key: str | None, *, server: str, what: str, where: str = "") -> list[dict[str, Any]]:
    """``container[key]`` (``container`` itself when ``key`` is None) as a list of objects.

    An empty list is a fine answer; null, a missing key or anything but a list of objects is not.
    ``where`` says which answer it was (e.g. "page 3"), for the message.
    """
    at = f" ({where})" if where else ""
    if key is None:
        value = container
    elif not isinstance(container, Mapping):
        raise BadAnswer(f"{server}'s answer with the {what}{at} was {kind(container)}, not the object its API "
                        "defines.", HINT)
    elif key not in container:
        raise BadAnswer(f"{server}'s answer had no list of {what}{at}: the {key!r} its API defines is missing.", HINT)
    else:
        value = container[key]
    if not isinstance(value, list):
        named = f" ({key!r})" if key else ""
        raise BadAnswer(f"{server}'s answer had no list of {what}{at}: it sent {kind(value)}{named} where its API "
                        "defines a list.", HINT)
    bad = next((i for i, item in enumerate(value) if not isinstance(item, dict)), None)
    if bad is not None:
        raise BadAnswer(f"{server}'s list of {what}{at} holds {kind(value[bad])} at position {bad + 1}, where "
                        "its API defines an object.", HINT)
    return value


def text(obj: Mapping[str, Any], key: str, *, server: str, what: str, optional: bool = False) -> str:
    """``obj[key]`` as text. With ``optional`` a missing key or null reads as ""; numbers are never text."""
    value = obj.get(key)
    if isinstance(value, str):
        return value
    if value is None and optional:
        return ""
    raise BadAnswer(f"{server} sent {what} whose {key!r} is {kind(value)}, where its API defines text.", HINT)


def integer(obj: Mapping[str, Any], key: str, *, server: str, what: str, default: int | None = None) -> int:
    """``obj[key]`` as a whole number (digits in text too); with ``default`` a missing key or null gives it."""
    value = obj.get(key)
    if value is None and default is not None:
        return default
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise BadAnswer(f"{server} sent {what} whose {key!r} is {kind(value)}, where its API defines a number.", HINT)
