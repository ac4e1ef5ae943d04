"""How a sync reads failures: a server that cannot be reached at all, an error retold with more
context (:func:`like`), and linked items confirmed one by one (:func:`confirm_each`)."""

from __future__ import annotations

from collections.abc import Sequence

import requests
import urllib3

from almdesk.base.failures import error_chain
from almdesk.base.records import RemoteItem
from almdesk.errors import AuthError, ConfigError, RemoteError, UserFacingError
from almdesk.systems.base import SyncAdapter


def confirm_each(adapter: SyncAdapter, refs: Sequence[str]) -> dict[str, RemoteItem]:
    """The linked items of ``refs`` that still exist in the target, read one by one with the adapter's
    ``get_item`` (for adapters without a ``find_items`` of their own); none without ``get_item``.

    A listing that left a linked item out (a page the server cut, a lagging index) must not make the
    sync create that task's item again: only an item the server says is not there (``get_item``'s
    ConfigError on field "item") is gone. Any other failure raises, and the sync stops.
    """
    get_item = getattr(adapter, "get_item", None)
    if not callable(get_item):
        return {}
    found: dict[str, RemoteItem] = {}
    for ref in refs:
        try:
            item = get_item(ref)
        except ConfigError as exc:
            if exc.field == "item":
                continue  # not in the target: the link's item is gone
            raise
        if isinstance(item, RemoteItem):
            found[ref] = item
    return found


def unreachable(error: BaseException) -> bool:
    """True when ``error`` comes from failing to connect at all (refused, DNS, connect timeout).

    Nothing was sent then, and the next request would fail the same way: a global failure. Read
    errors and resets are not: the server is there, and one request's failure is that item's.
    """
    return any(isinstance(exc, requests.exceptions.ConnectTimeout | urllib3.exceptions.NewConnectionError |
                          urllib3.exceptions.ConnectTimeoutError) for exc in error_chain(error))


def like(error: UserFacingError, message: str, hint: str | None = None) -> UserFacingError:
    """The same kind of error (so the CLI's exit code stays right) with a fuller message."""
    hint = error.hint if hint is None else hint
    try:
        return type(error)(message, hint, field=error.field)
    except TypeError:  # a subclass with another signature
        base = AuthError if isinstance(error, AuthError) else RemoteError if isinstance(error, RemoteError) else (
            ConfigError if isinstance(error, ConfigError) else UserFacingError)
        return base(message, hint, field=error.field)
