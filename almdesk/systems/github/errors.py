"""GitHub's error answers turned into messages an admin acts on.

GitHub's bodies are ``{"message", "documentation_url"}`` or, for 422, ``{"message": "Validation
Failed", "errors": [{"resource", "field", "code", "message"}]}``; both are flattened into one line.
"""

from __future__ import annotations

from typing import Any

import requests

from almdesk.errors import AuthError, ConfigError, RemoteError, UserFacingError
from almdesk.systems.github.fields import TOKEN

TOKEN_HINT = ("The token is wrong, expired or revoked. Create a new personal access token on GitHub "
              "(Settings → Developer settings) and enter it in the connector's Token field.")
WRITE_HINT = ("For a fine-grained token, grant Issues: Read and write on this repository; for a classic "
              "token, the repo scope (public_repo is enough for public repositories).")


def detail(response: requests.Response) -> str:
    """GitHub's own words for a failed response, on one line (at most ~300 characters)."""
    try:
        body: Any = response.json()
    except (ValueError, RecursionError):  # RecursionError: JSON nested too deep
        text = " ".join(response.text.split())[:200]
        return text or response.reason or f"HTTP {response.status_code}"
    if not isinstance(body, dict):
        return str(body)[:300]
    message = str(body.get("message") or response.reason or "")
    parts = []
    for err in body.get("errors") or []:
        if isinstance(err, dict):
            text = err.get("message") or " ".join(str(err[k]) for k in ("resource", "field", "code") if err.get(k))
            parts.append(str(text))
        else:
            parts.append(str(err))
    if parts:
        message = f"{message}: {'; '.join(parts)}"
    return message[:300]


def error_for(response: requests.Response, what: str, *, not_found: UserFacingError | None = None,
              repo: str = "") -> UserFacingError:
    """The error to raise for a failed ``response`` to the request described by ``what``."""
    status = response.status_code
    text = detail(response)
    low = text.lower()
    where = f" in {repo}" if repo else ""
    if status == 401:
        return AuthError(f"GitHub refused the token while {what}: {text} (HTTP 401).", TOKEN_HINT, field=TOKEN)
    if status == 403:
        if "rate limit" in low:
            return RemoteError(f"GitHub's rate limit stopped {what}: {text} (HTTP 403).",
                               "Wait a few minutes and try again; raise the connector's pause between writes "
                               "if this happens often.")
        if "archived" in low:
            return ConfigError(f"The repository{where} is archived, so it is read-only (HTTP 403).",
                               "Unarchive it on GitHub (Settings → Danger Zone), or choose another repository.",
                               field="alm_project")
        if "saml" in low or "sso" in low:
            return AuthError(f"The organisation enforces SAML single sign-on and the token is not authorised for "
                             f"it (HTTP 403, while {what}).",
                             "On GitHub, open Settings → Developer settings → the token → Configure SSO, and "
                             "authorise it for the organisation.", field=TOKEN)
        if "personal access token" in low or "integration" in low:
            return AuthError(f"The token may not do this{where}: {text} (HTTP 403, while {what}).", WRITE_HINT,
                             field=TOKEN)
        return AuthError(f"GitHub refused {what}: {text} (HTTP 403).",
                         "The token's user needs Write access to the repository (ask a repository admin), and "
                         "the token the scopes for it. " + WRITE_HINT, field=TOKEN)
    if status == 404:
        return not_found or RemoteError(f"GitHub found nothing while {what} (HTTP 404): {text}.",
                                        "Check the owner and repository names, and that the token can see them.")
    if status == 410:
        return ConfigError(f"Issues are turned off for the repository{where} (HTTP 410).",
                           "Turn on Issues in the repository's Settings → General → Features, or choose another "
                           "repository.", field="alm_project")
    if status == 422:
        return UserFacingError(f"GitHub rejected {what}: {text} (HTTP 422).",
                               "Correct the value GitHub names and try again.")
    if status >= 500:
        return RemoteError(f"GitHub failed while {what} (HTTP {status}): {text}.",
                           "GitHub or a proxy in between is having trouble; try again in a few minutes.")
    return RemoteError(f"GitHub answered HTTP {status} while {what}: {text}.",
                       "Check the API URL and try again.")
