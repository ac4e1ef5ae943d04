"""Reading an answer's body: JSON, or a message naming what came instead (a sign-in page of a single
sign-on or proxy in front of the API, another web page, JSON cut off or nested too deep).

:func:`json_body` is what every client reads JSON with; :func:`check_sign_in_page` is for probes that
read no JSON but must still name an SSO interstitial.
"""

from __future__ import annotations

import json
from typing import Any

import requests

from almdesk.errors import RemoteError

SIGN_IN_WORDS = ("sign in", "sign-in", "log in", "login", "single sign-on", "sso", "saml", "password")
SIGN_IN_HINT = ("The API takes the connector's credentials, not a browser sign-in: check that the server URL is the "
                "product's own address, and ask whoever runs the single sign-on or proxy in front of it to let API "
                "calls through without a browser sign-in.")


def sign_in_page(html: str) -> bool:
    """Whether a web page that came back instead of JSON asks for a sign-in (an SSO or proxy interstitial)."""
    low = html.lower()
    return any(word in low for word in SIGN_IN_WORDS)


def check_sign_in_page(response: requests.Response, what: str, field: str = "url") -> None:
    """Raise the named failure when ``response`` is an HTML sign-in page (for probes that read no JSON)."""
    if "html" in response.headers.get("Content-Type", "").lower() and sign_in_page(response.text):
        raise RemoteError(f"{what} answered with a sign-in page (single sign-on or a proxy) instead of the API "
                          f"(HTTP {response.status_code}).", SIGN_IN_HINT, field=field)


def json_body(response: requests.Response, what: str = "the server") -> Any:
    """Parse a JSON body, or explain what came back instead (HTML login page, truncated JSON…)."""
    ctype = response.headers.get("Content-Type", "")
    text = response.content.decode("utf-8", "replace")
    try:
        return json.loads(text) if text.strip() else None
    except RecursionError:
        raise RemoteError(f"{what} sent JSON nested too deeply to read (HTTP {response.status_code}).",
                          "The server or a proxy in between may be failing; try again.") from None
    except ValueError:
        snippet = " ".join(text.strip().split())[:120]
        if "html" in ctype.lower() or snippet.lower().startswith(("<!doctype", "<html")):
            check_sign_in_page(response, what)
            raise RemoteError(f"{what} answered with a web page instead of the API (HTTP {response.status_code}).",
                              "Check the server URL points at the product itself (not a login portal or "
                              "proxy page).") from None
        raise RemoteError(f"{what} sent a reply that is not valid JSON (HTTP {response.status_code}): {snippet!r}.",
                          "The server or a proxy in between may be failing; try again.") from None
