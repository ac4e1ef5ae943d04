"""Jira's browser-session-cookie sign-in (for sites that sign in only through SSO in a browser).

The secret is what the user pastes from the browser's developer tools: a whole ``Cookie`` header
(``Cookie: JSESSIONID=…; seraph.rememberme.cookie=…``), its value, or the ``JSESSIONID`` value alone.
:func:`session_cookie` turns it into one ``Cookie`` header value; the client sends it with
``AlmSession.set_credential`` (so only to the configured origin, never through the cookie jar, and it is
dropped on a redirect to another host).

A session that has expired shows up as: a redirect to the SSO sign-in (another host: the session
refuses it), a sign-in web page instead of JSON, a 401, or an answer Jira marks as anonymous
(``X-AUSERNAME: anonymous``). :func:`session_expired` names it with the fix.
"""

from __future__ import annotations

import re

import requests

from almdesk.errors import AuthError, ConfigError

TOKEN_FIELD = "token"
_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


def session_cookie(raw: str) -> tuple[str, list[str]]:
    """(the Cookie header value, the cookie values) from what was pasted; ConfigError when it is not one."""
    text = " ".join(raw.split())
    if text[:7].lower() == "cookie:":
        text = text[7:].strip()
    pairs: list[tuple[str, str]] = []
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        name, eq, value = part.partition("=")
        if not eq and not pairs and ";" not in text:
            name, value = "JSESSIONID", part  # the JSESSIONID value alone
        name, value = name.strip(), value.strip()
        if not _NAME.match(name) or not value or any(c in value for c in ' ",\\') or not value.isascii():
            raise ConfigError("The session cookie is not a browser Cookie header (name=value; name=value).",
                              "In the browser, sign in to Jira, open the developer tools' Network tab, pick a "
                              "request to Jira and copy its Cookie request header (or the JSESSIONID value).",
                              field=TOKEN_FIELD)
        pairs.append((name, value))
    if not pairs:
        raise ConfigError("The session cookie is empty.", "Paste the Cookie header of a signed-in Jira browser tab.",
                          field=TOKEN_FIELD)
    return "; ".join(f"{n}={v}" for n, v in pairs), [v for _n, v in pairs]


def session_expired(why: str) -> AuthError:
    return AuthError(f"The browser session expired: {why}.",
                     "Sign in to Jira again in the browser, then copy the new Cookie header (developer tools › "
                     "Network › a Jira request) and paste it as the session cookie.", field=TOKEN_FIELD)


def expired_answer(response: requests.Response) -> AuthError | None:
    """The expiry an answer shows (401, a web page, an anonymous answer), or None."""
    status = response.status_code
    if status == 401:
        return session_expired(f"Jira answered HTTP 401 ({response.headers.get('X-Seraph-LoginReason') or 'not signed in'})")
    if "html" in response.headers.get("Content-Type", "").lower() and status in (200, 403):
        page = response.url if response.history else ""
        return session_expired("Jira answered with a web page (a sign-in page) instead of the API"
                               + (f", after redirecting to {page.split('?')[0]}" if page else ""))
    if response.headers.get("X-AUSERNAME", "").lower() == "anonymous":
        return session_expired("Jira treated the request as anonymous (X-AUSERNAME: anonymous)")
    return None
