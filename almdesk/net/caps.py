"""Answers within limits: a body is read in small steps up to a byte cap counted after decompression
and before a deadline (:func:`read_capped`); past either, :class:`AnswerTooLarge` names the server and
the limit. The session's transport adapter applies it to every answer, redirects' included.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import DecodeError, ProtocolError

from almdesk.errors import RemoteError


class AnswerTooLarge(RemoteError):
    """An answer beyond the connector's size or time limits; almdesk stopped reading it."""


READ_CHUNK = 16 * 1024  # compressed bytes read at a time: a chunk inflates to at most ~16 MiB


def read_capped(response: requests.Response, max_bytes: int, deadline: float,
                clock: Callable[[], float] = time.monotonic) -> None:
    """Read ``response``'s body into ``response._content`` within ``max_bytes`` (counted after
    decompression) and before ``deadline`` (a ``clock()`` reading); else close it and raise
    :class:`AnswerTooLarge` naming the server and the limit."""
    where = f"{response.request.method} {urlsplit(response.url).netloc}{urlsplit(response.url).path}"
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes and not response.headers.get("Content-Encoding"):
        response.close()
        raise AnswerTooLarge(f"The server announced an answer of {int(declared) / 2**20:,.0f} MiB to {where}; almdesk "
                             f"reads at most {max_bytes / 2**20:,.0f} MiB.", _LIMIT_HINT, status=response.status_code)
    parts: list[bytes] = []
    size = 0
    raw = response.raw
    try:
        while True:
            chunk = raw.read1(READ_CHUNK, decode_content=True)
            if not chunk:
                break
            size += len(chunk)
            if size > max_bytes:
                raise AnswerTooLarge(f"The answer to {where} grew past {max_bytes / 2**20:,.0f} MiB (after "
                                     "decompression); almdesk stopped reading it.", _LIMIT_HINT,
                                     status=response.status_code)
            if clock() > deadline:
                raise AnswerTooLarge(f"The answer to {where} was still arriving when the request's time ran out; "
                                     "almdesk stopped reading it.", _DEADLINE_HINT, status=response.status_code)
            parts.append(chunk)
    except AnswerTooLarge:
        response.close()
        raise
    except (ProtocolError, DecodeError, OSError) as exc:
        response.close()
        raise requests.exceptions.ChunkedEncodingError(exc) from exc
    response._content = b"".join(parts)
    response._content_consumed = True  # type: ignore[attr-defined]  # requests reads it; not in its stubs
    response.close()


_LIMIT_HINT = ("A proxy or the server may be failing. If answers this large are expected, raise \"Largest answer\" "
               "in the connector's Network tab.")
_DEADLINE_HINT = ("The server or a proxy is sending very slowly. If that is expected, raise \"Longest request\" in "
                  "the connector's Network tab.")
