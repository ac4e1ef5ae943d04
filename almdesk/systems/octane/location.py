"""Parsing the ALM Octane *Location* users paste from the browser (DESIGN §4, research/octane.md §2).

``https://host[:port][/context]/ui/?p=<shared space>[/<workspace>]``: the fragment (``#…``) is cut,
any web context before ``/ui`` is kept, ``p`` is read wherever it is in the query (also
``%2F``-encoded, also after ``admin`` or ``TENANTID``). Errors are :class:`ConfigError` with
``field="location"`` and say what to fix.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote, urlsplit

from almdesk.base.settings import is_loopback
from almdesk.errors import ConfigError

EXAMPLE = "https://octane.example.com/ui/?p=1001/1002"
_HINT_COPY = f"Copy the address from the browser while ALM Octane is open; it looks like {EXAMPLE}."


def _fail(message: str, hint: str = _HINT_COPY) -> ConfigError:
    return ConfigError(message, hint, field="location")


def parse_location(text: str) -> tuple[str, str, str | None]:
    """``(server_base, shared_space, workspace or None)`` from a Location; raises ConfigError."""
    raw = (text or "").strip()
    if not raw:
        raise _fail("Location is required.")
    if any(ch.isspace() for ch in raw):
        raise _fail("Location must not contain spaces.", "Paste the address exactly as the browser shows it.")
    if not raw.isprintable():
        raise _fail("Location contains control characters.", "Paste the address exactly as the browser shows it.")
    if "://" not in raw:
        raise _fail("Location must start with https:// or http://.",
                    f"Write the full address, for example https://{raw.lstrip('/')}.")
    raw = raw.split("#", 1)[0]
    try:
        parts = urlsplit(raw)
    except ValueError:  # unbalanced or empty [ ] around an IPv6 address
        raise _fail("Location has an invalid host name.",
                    "Write an IPv6 address in brackets, like https://[2001:db8::1]/ui/?p=1001.") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise _fail(f"Location must start with https:// or http://, not {parts.scheme}://.",
                    f"Use the address of the Octane web page, for example {EXAMPLE}.")
    if "@" in parts.netloc:
        raise _fail("Location must not contain a user name or password.",
                    "Remove the part before @; enter the Client ID and secret in their own fields.")
    try:
        port = parts.port
    except ValueError:
        raise _fail("Location has an invalid port.", "The port must be a number from 1 to 65535.") from None
    if port == 0:
        raise _fail("Location has an invalid port.", "The port must be a number from 1 to 65535.")
    host = parts.hostname
    if not host:
        raise _fail("Location has no host name.", f"Write it like {EXAMPLE}.")
    context = _web_context(parts.path)
    if context is None:
        raise _fail("Location must contain /ui/?p=<shared space id>.")
    p_values = [v for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() == "p"]
    if not p_values or not p_values[0].strip():
        raise _fail("Location has no shared space: the p=<shared space id> parameter is missing.",
                    f"Open a workspace in the browser and copy the whole address, e.g. {EXAMPLE}.")
    space, workspace = _split_p(p_values[0])
    netloc = host if ":" not in host else f"[{host}]"
    if port is not None:
        netloc = f"{netloc}:{port}"
    return f"{scheme}://{netloc.lower()}{context}", space, workspace


def _web_context(path: str) -> str | None:
    """The path before the ``/ui`` segment ('' without a web context), or None without ``/ui``."""
    segments = path.split("/")
    for index, segment in enumerate(segments):
        if segment.lower() == "ui" and index > 0:
            return "/".join(segments[:index]).rstrip("/")
    return None


def _split_p(value: str) -> tuple[str, str | None]:
    value = value.strip()
    for _ in range(2):  # %2F, or %252F from a double-encoded paste
        if "%" in value:
            value = unquote(value)
    pieces = [piece.strip() for piece in value.strip("/").split("/")]
    if len(pieces) > 2:
        raise _fail(f"Location's p={value} has more than a shared space and a workspace.",
                    "p= must be <shared space id> or <shared space id>/<workspace id>, e.g. p=1001/1002.")
    space = pieces[0]
    if not (space.isascii() and space.isdigit()):
        raise _fail(f"shared space id must be a number (p={value}).",
                    "The number after p= is the shared space id; copy the address from the browser again.")
    workspace = pieces[1] if len(pieces) == 2 and pieces[1] else None
    if workspace is not None and not (workspace.isascii() and workspace.isdigit()):
        raise _fail(f"workspace id must be a number (p={value}).",
                    "After p=<shared space>/ comes the workspace id, a number like 1002.")
    return space, workspace


def plain_http_warning(server: str) -> str:
    """A warning for http:// to a host that is not loopback ('' when there is nothing to say)."""
    parts = urlsplit(server)
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        return "plain http: the Client secret travels unencrypted; use https:// if the server offers it"
    return ""
