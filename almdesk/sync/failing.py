"""How the sync engine tells a global failure from an item's, and words a failure it passes on.

:func:`unreachable` is true for failures to connect at all (the sync stops: the next request would
fail alike); :func:`like` re-raises a failure as the same kind of error with a fuller message, so the
CLI's exit code stays right.
"""

from __future__ import annotations

import requests
import urllib3

from almdesk.base.failures import error_chain
from almdesk.errors import AuthError, ConfigError, RemoteError, UserFacingError


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
