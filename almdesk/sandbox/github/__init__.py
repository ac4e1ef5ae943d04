"""GitHub (and GitHub Enterprise) sandbox: the REST API's issues, issue search, labels, milestones, rate limits.

``create(seed, strict_rate_limits=False, issues=320, ...)`` builds the app; serve it with
:func:`almdesk.sandbox.base.serve`. It answers both at ``/`` (like ``https://api.github.com``) and
under ``/api/v3`` (like an Enterprise server). See :mod:`almdesk.sandbox.github.seed` for the data
and :mod:`almdesk.sandbox.github.limits` for the rate limits.
"""

from __future__ import annotations

from typing import Any

from almdesk.sandbox.github.app import PREFIX, GitHubSandbox, Received

__all__ = ["PREFIX", "GitHubSandbox", "Received", "create"]


def create(seed: int = 0, *, strict_rate_limits: bool = False, issues: int = 320, primary_limit: int = 5000,
           primary_window: float = 3600.0, secondary_minute: float = 60.0, secondary_status: int = 403,
           search_limit: int = 30, search_window: float = 60.0, concurrent_writes: int = 1,
           **_other: Any) -> GitHubSandbox:
    """A seeded GitHub sandbox.

    ``strict_rate_limits`` turns on the secondary limits (80 content-creating requests a minute,
    500 an hour); ``secondary_minute`` shortens that minute for tests; ``issues`` is how many issues
    the demo repository ``almdesk-demo/webapp`` starts with; ``primary_limit`` the budget of each
    token per ``primary_window`` seconds (an hour); ``search_limit`` the search budget of each token per
    ``search_window`` seconds (30 a minute, like GitHub); ``concurrent_writes`` how many writes of one
    token may be in flight at once under ``strict_rate_limits`` (GitHub asks for one at a time; more are
    refused with the secondary-limit 403). Options meant for other systems' sandboxes are ignored.
    """
    return GitHubSandbox(seed, strict_rate_limits=strict_rate_limits, issues=issues, primary_limit=primary_limit,
                         primary_window=primary_window, secondary_minute=secondary_minute,
                         secondary_status=secondary_status, search_limit=search_limit, search_window=search_window,
                         concurrent_writes=concurrent_writes)
