"""Which failed writes may still be carried out by the server (unknown fate), and the errors behind an error.

A read timeout, an HTTP 504 or a reset after sending leave a create's outcome unknown; the sync
engine then waits before creating that task again (:class:`FateUnknown`, :func:`with_fate`).
"""

from __future__ import annotations

from collections.abc import Iterator

from almdesk.errors import RemoteError, UserFacingError


class FateUnknown(RemoteError):
    """A write that was sent but whose outcome is unknown: the server may still carry it out.

    A read timeout, an HTTP 504 or a connection reset after the request went out leave the
    server possibly still working (a create may land seconds later). Sync adapters return it for
    such drafts (:func:`with_fate`); the engine records the create in its journal and waits
    twice the connector's timeout before creating that task again (the lookup by title decides).
    """


FATE_UNKNOWN_STATUSES = frozenset({504})  # a gateway gave up waiting; the server behind may finish


def fate_unknown(error: BaseException | None, status: int | None = None) -> bool:
    """True when a failed write may still be carried out by the server.

    A :class:`FateUnknown`; an HTTP ``status`` (given, or an error's ``status`` attribute) of 504; or
    a failure caused (``__cause__``/``__context__``, also through suppressed ``from None``) by a read
    timeout or a connection reset/abort after sending. Not a connect timeout, a refused connection,
    DNS or TLS failures: nothing reached the server then.
    """
    import http.client

    import requests
    import urllib3

    if isinstance(error, FateUnknown):
        return True
    if status in FATE_UNKNOWN_STATUSES or getattr(error, "status", None) in FATE_UNKNOWN_STATUSES:
        return True
    for exc in error_chain(error):
        if isinstance(exc, requests.exceptions.ConnectTimeout | urllib3.exceptions.ConnectTimeoutError |
                      urllib3.exceptions.NewConnectionError | requests.exceptions.SSLError |
                      requests.exceptions.ProxyError):
            return False
        if isinstance(exc, requests.exceptions.ReadTimeout | urllib3.exceptions.ReadTimeoutError |
                      ConnectionResetError | ConnectionAbortedError | http.client.RemoteDisconnected |
                      urllib3.exceptions.ProtocolError):
            return True
    return False


def error_chain(error: BaseException | None) -> Iterator[BaseException]:
    """``error`` and every exception behind it, each once: ``__cause__`` and ``__context__`` (also
    through ``from None``), exceptions among its ``args``, and urllib3's ``MaxRetryError.reason``."""
    import urllib3

    seen: set[int] = set()
    stack: list[BaseException | None] = [error]
    while stack:
        exc = stack.pop()
        if exc is None or id(exc) in seen:
            continue
        seen.add(id(exc))
        yield exc
        if isinstance(exc, urllib3.exceptions.MaxRetryError):
            stack.append(exc.reason)
        stack.extend(a for a in getattr(exc, "args", ()) if isinstance(a, BaseException))
        stack.extend((exc.__cause__, exc.__context__))


def with_fate(error: Exception, status: int | None = None) -> Exception:
    """``error`` as a :class:`FateUnknown` when :func:`fate_unknown` says so (message kept), else unchanged."""
    if isinstance(error, FateUnknown) or not isinstance(error, UserFacingError) or not fate_unknown(error, status):
        return error
    wrapped = FateUnknown(error.message, "The server may still make the item; the next syncs wait a while "
                          "before creating it again, then find it by its title.", field=error.field)
    wrapped.__cause__ = error
    return wrapped
