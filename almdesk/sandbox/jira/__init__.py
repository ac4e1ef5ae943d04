"""Jira sandbox: a loopback Jira Cloud (``mode='cloud'``) or Data Center (``mode='dc'``) site.

``create(seed, mode=…)`` builds the app; :func:`almdesk.sandbox.base.serve` runs it. Options:
``issues`` (demo issues in DEMO, default 150), ``context_path`` (e.g. ``/jira``), ``strict_rate_limits``
(a small token bucket, so clients meet 429 + Retry-After), ``rate_limit=(capacity, per_second)`` or None,
``max_results`` (cap on search page sizes), ``captcha_after`` (DC: failed basic logins before CAPTCHA),
``jira_mode`` (same as ``mode``, for callers that pass one option set to every sandbox),
``search_lag`` (Cloud: how many searches a new issue stays invisible to unless named in
``reconcileIssues``, as Cloud's eventually consistent search behaves; default 0), ``sso_url`` (DC: an
unknown or expired session cookie is redirected to this SSO sign-in, as on an SSO-only site).
Client-certificate TLS (mTLS): :class:`almdesk.sandbox.jira.tls.MutualTls` makes the CA and the
certificates and the server context that requires a client certificate; pass it to ``serve``.
Options meant for other systems are ignored.
"""

from __future__ import annotations

from typing import Any

from almdesk.sandbox.jira.app import JiraSandbox

STRICT_RATE_LIMIT = (20, 10.0)
DEFAULT_RATE_LIMIT = (300, 150.0)


def create(seed: int = 0, mode: str = "cloud", **options: Any) -> JiraSandbox:
    """A Jira sandbox app with seeded demo data."""
    if "rate_limit" in options:
        rate_limit = options["rate_limit"]
    elif options.get("strict_rate_limits"):
        rate_limit = STRICT_RATE_LIMIT
    else:
        rate_limit = DEFAULT_RATE_LIMIT
    mode = str(options.get("jira_mode") or mode)
    return JiraSandbox(seed, mode, issues_count=int(options.get("issues", 150)),
                       context_path=str(options.get("context_path", "")), rate_limit=rate_limit,
                       max_results=options.get("max_results"), captcha_after=options.get("captcha_after"),
                       search_lag=int(options.get("search_lag", 0)), sso_url=str(options.get("sso_url", "")))


__all__ = ["JiraSandbox", "create"]
