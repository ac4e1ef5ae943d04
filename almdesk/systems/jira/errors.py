"""Turning Jira's answers into messages an admin acts on.

Jira reports problems as an ErrorCollection (``errorMessages`` + ``errors`` by field), sometimes as
``message``; failed logins carry ``X-Seraph-LoginReason`` and, after too many, a CAPTCHA demand in
``X-Authentication-Denied-Reason``. A 401 is explained from what was tried: the deployment and the
kind of credential (an Atlassian Cloud API token sent to Data Center is recognised by its prefix).
"""

from __future__ import annotations

from typing import Any

import requests

from almdesk.errors import AuthError, RemoteError
from almdesk.systems.jira.fields import API_TOKEN, BASIC, CLOUD, PAT

CLOUD_TOKEN_PREFIX = "ATATT"


class JiraApiError(RemoteError):
    """Jira answered with an error status; ``status``, ``messages`` and ``errors`` hold what it said."""

    def __init__(self, message: str, hint: str = "", *, status: int = 0, messages: list[str] | None = None,
                 errors: dict[str, str] | None = None, field: str | None = None) -> None:
        super().__init__(message, hint, field=field, status=status)
        self.messages = messages or []
        self.errors = errors or {}


def error_parts(body: Any) -> tuple[list[str], dict[str, str]]:
    """(errorMessages, errors) from any of Jira's error body shapes."""
    if not isinstance(body, dict):
        return ([str(body)[:300]] if body else []), {}
    messages = [str(m) for m in body.get("errorMessages") or [] if m]
    for key in ("message", "errorMessage"):
        if isinstance(body.get(key), str) and body[key]:
            messages.append(body[key])
    errors = body.get("errors") if isinstance(body.get("errors"), dict) else {}
    return messages, {str(k): str(v) for k, v in (errors or {}).items()}


def flatten(messages: list[str], errors: dict[str, str]) -> str:
    parts = list(messages) + [f"{k}: {v}" for k, v in errors.items()]
    text = "; ".join(parts) if parts else "no details given"
    return text if len(text) <= 500 else text[:499] + "…"  # an error body may be megabytes


def body_of(response: requests.Response) -> Any:
    try:
        return response.json()
    except (ValueError, RecursionError):  # RecursionError: JSON nested too deep
        return response.text.strip()[:300]


def explain_401(response: requests.Response, deployment: str, auth: str, token: str, user: str) -> AuthError:
    """Why Jira refused the credentials, from what was sent (never including the secret itself)."""
    text = response.text if "json" not in response.headers.get("Content-Type", "") else ""
    cloud = deployment == CLOUD
    if "passwords is deprecated" in text or (cloud and auth == BASIC):
        return AuthError("Jira Cloud refused the password: over the API it accepts only API tokens.",
                         "Create an API token at id.atlassian.com › Security › API tokens, enter it as the token and "
                         "choose api_token; keep your e-mail as the user.", field="token")
    if cloud and auth == PAT:
        return AuthError("This is Jira Cloud, which does not accept personal access tokens (HTTP 401).",
                         "Choose api_token and enter your Atlassian e-mail with an API token from "
                         "id.atlassian.com › Security › API tokens.", field="auth_method")
    if cloud:
        return AuthError(f"Jira Cloud refused the e-mail {user!r} with this API token (HTTP 401).",
                         "Check the e-mail is the one of the Atlassian account that created the token, and that the "
                         "token is not revoked or expired (id.atlassian.com › Security › API tokens).", field="token")
    if token.startswith(CLOUD_TOKEN_PREFIX):
        return AuthError("Jira Data Center refused the token: it is an Atlassian Cloud API token (it starts with "
                         f"{CLOUD_TOKEN_PREFIX}), and Data Center accepts only its own personal access tokens (HTTP 401).",
                         "In Jira Data Center open Profile › Personal Access Tokens, create a token and enter it "
                         "here with Authentication set to pat.", field="token")
    if auth == API_TOKEN:
        return AuthError("This server is Jira Data Center, which does not accept Atlassian API tokens (HTTP 401).",
                         "Choose pat with a personal access token (Profile › Personal Access Tokens in Jira), or "
                         "basic with the username and password.", field="auth_method")
    if auth == PAT:
        return AuthError("Jira Data Center refused the personal access token (HTTP 401).",
                         "The token may be mistyped, expired or revoked: create a new one in Jira under Profile › "
                         "Personal Access Tokens.", field="token")
    return AuthError(f"Jira refused the username {user!r} or its password (HTTP 401).",
                     "Check both. If basic authentication is turned off on this server (the default from Jira 11), "
                     "use a personal access token instead.", field="token")


def explain_403(response: requests.Response, what: str) -> RemoteError:
    denied = response.headers.get("X-Authentication-Denied-Reason", "")
    if "CAPTCHA" in denied.upper():
        login = denied.partition("login-url=")[2].strip() or "the Jira login page"
        return AuthError("Jira asks for a CAPTCHA after too many failed logins, so it refuses the password "
                         "(HTTP 403).", f"Log in once in a browser at {login} to clear it, then test again.",
                         field="token")
    messages, errors = error_parts(body_of(response))
    return JiraApiError(f"Jira refused {what}: {flatten(messages, errors)} (HTTP 403).",
                        "The account lacks a permission for this; ask a Jira admin to grant it.", status=403,
                        messages=messages, errors=errors)


def explain_status(response: requests.Response, what: str) -> RemoteError:
    """Any other error status, as a RemoteError/JiraApiError (callers refine 400/404)."""
    status = response.status_code
    messages, errors = error_parts(body_of(response))
    detail = flatten(messages, errors)
    if status == 429:
        return RemoteError(f"Jira kept answering 'too many requests' (HTTP 429) to {what}, even after waiting as it "
                           "asked (Retry-After).", "Jira is rate-limiting this account; wait a minute and run the "
                           "job again, or run fewer jobs against this site at the same time.")
    if status == 410:
        return JiraApiError(f"Jira says the API used for {what} has been removed (HTTP 410): {detail}",
                            "This is Jira Cloud: set Deployment to cloud or auto.", status=410, messages=messages,
                            errors=errors, field="deployment")
    if status >= 500:
        return JiraApiError(f"Jira failed with HTTP {status} on {what}: {detail}.",
                            "The server had a problem; try again later. If it keeps failing, check Jira's logs or "
                            "status page.", status=status, messages=messages, errors=errors)
    return JiraApiError(f"Jira rejected {what} (HTTP {status}): {detail}.", "", status=status, messages=messages,
                        errors=errors)
