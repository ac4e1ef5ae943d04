"""How the sync engine tells a global failure from an item's, words a failure it passes on, and
asks for the linked items a listing left out before the engine would create them again
(:func:`find_missing`).

:func:`unreachable` is true for failures to connect at all (the sync stops: the next request would
fail alike); :func:`like` re-raises a failure as the same kind of error with a fuller message, so the
CLI's exit code stays right.
"""

from __future__ import annotations

from collections.abc import Sequence

import requests
import urllib3

from almdesk.base.failures import error_chain
from almdesk.base.records import RemoteItem
from almdesk.errors import AuthError, ConfigError, RemoteError, UserFacingError
from almdesk.jobs.context import JobContext
from almdesk.sync.plan import LINKED, ItemIndex, LinkSnapshot, TaskSnapshot
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


def find_missing(adapter: SyncAdapter, index: ItemIndex, tasks: list[TaskSnapshot],
                 links: dict[int, LinkSnapshot], ctx: JobContext, noun: str) -> None:
    """Add to ``index`` the linked items the listing did not show but the server still has.

    An adapter whose listing may lag behind its writes (Jira Cloud's search is eventually
    consistent) offers ``find_items(refs) -> {ref: item}``: the items still in the target, read
    directly. Without it a re-sync right after a create would take its new items for deleted ones and
    create them again. Other adapters' items are confirmed one by one (:func:`confirm_each`): a listing
    that left them out is no proof they are gone. A failure stops the sync rather than risk duplicates.
    """
    missing = [link.alm_ref for t in tasks if (link := links.get(t.pk)) and link.state == LINKED
               and link.alm_ref not in index.by_ref]
    if not missing:
        return
    find = getattr(adapter, "find_items", None)
    try:
        found: dict[str, RemoteItem] = find(missing) if callable(find) else confirm_each(adapter, missing)
    except UserFacingError as exc:
        raise like(exc, f"Checking {len(missing)} linked {noun}(s) missing from the listing failed: "
                        f"{exc.message}") from exc
    for ref, item in found.items():
        if item.ref not in index.by_ref:
            index.add(item)
        index.by_ref[ref] = index.by_ref[item.ref]  # also under the ref the link knows (a moved issue's key)
    if found:
        ctx.log(f"{len(found)} of {len(missing)} linked {noun}(s) missing from the listing were found when "
                "asked for directly (the listing lags behind the server's writes, or left them out).", "warning")
