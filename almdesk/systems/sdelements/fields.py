"""SD Elements connector fields: the server address and an API v2 token (kept in the keyring).

The server URL is the address people open in the browser (``https://sde.example.com``); the API
lives under ``/api/v2/`` there. A pasted API or page address is cut back to the server's root.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from almdesk.base.fields import Field, FieldKind

TOKEN = "api_token"
TOKEN_HINT = ("Generate a new API token in SD Elements (user menu → API Settings → APIv2 → Generate; it is "
              "shown once) and enter it in the connector's API token field.")

CONNECTOR_FIELDS: tuple[Field, ...] = (
    Field("url", "Server URL", FieldKind.URL, required=True, section="General", placeholder="https://sde.example.com",
          help="The SD Elements address you open in the browser; almdesk adds /api/v2/ itself."),
    Field(TOKEN, "API token", FieldKind.SECRET, required=True, section="General",
          help="An API v2 token: user menu → API Settings → APIv2 → Generate. Sent as 'Authorization: Token …'."),
)


def server_root(url: str) -> str:
    """``https://sde.example.com/api/v2/projects/`` or ``…/bunits/x/y/`` → ``https://sde.example.com``,
    keeping a context path before ``/api`` or ``/bunits`` (a server behind ``/sde``)."""
    parts = urlsplit(url.strip())
    path = parts.path
    for marker in ("/api/", "/bunits/", "/api"):
        at = path.find(marker)
        if at >= 0 and (marker != "/api" or path.endswith("/api")):
            path = path[:at]
            break
    return urlunsplit((parts.scheme, parts.netloc, path.rstrip("/"), "", ""))


def check_connector(params: dict[str, Any]) -> dict[str, Any]:
    out = dict(params)
    if out.get("url"):
        out["url"] = server_root(str(out["url"]))
    return out
