"""A Location address (Octane's ``…/ui/?p=<space>/<workspace>``) pointed at another workspace, so the
connector form's Location says the workspace just picked (pure text; no Qt, no network)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit


def with_workspace(location: str, workspace: str) -> str:
    """``location`` (an address with ``p=<space>[/<workspace>]``) pointing at ``workspace``; as it was
    when it has no such ``p``."""
    try:
        parts = urlsplit(location)
    except ValueError:
        return location
    query = parse_qsl(parts.query, keep_blank_values=True)
    out, changed = [], False
    for key, value in query:
        if key.lower() == "p" and not changed and value.strip():
            space = value.strip().strip("/").split("/")[0]
            value, changed = f"{space}/{workspace}", True
        out.append((key, value))
    if not changed:
        return location
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(out, safe="/"), parts.fragment))
