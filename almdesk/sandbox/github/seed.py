"""Seeded demo data for the GitHub sandbox: one organisation's repositories, tokens and issues.

Repositories (owner ``almdesk-demo`` unless noted):

- ``webapp``: private, issues on; the demo connection's target, with ``issues`` seeded issues
  (task issues ``T501: …`` to ``T560: …`` labelled ``almdesk``, so none collides with the demo
  project's tasks T1…T40; ordinary bugs and features, pull requests; every state: open, open again
  after a reopen (``state_reason: reopened``), closed as completed, as not planned, and as a
  duplicate (``state_reason: duplicate`` plus the ``duplicate`` label)) and milestones ``v1.0``,
  ``v2.0`` (open) and ``v0.9`` (closed);
- ``public-site``: public, a few issues (the content guard applies);
- ``legacy``: private, issues turned off (creating an issue answers 410);
- ``old-tool``: private, archived (read-only);
- ``other-org/shared-lib``: public, the bot can only read it;
- ``other-org/secret``: private, the bot has no access (404).

Tokens: ``admin`` (classic, ``repo, read:org``), ``readonly`` (fine-grained, Issues read-only),
``public`` (classic, ``public_repo`` only). Values are derived from the seed.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from almdesk.sandbox.github.model import Issue, Label, Milestone, Repo, Token, User, World

ORG = "almdesk-demo"
BOT = "almdesk-bot"
DEMO_REPO = "webapp"
TASK_LABEL = "almdesk"
TASK_BASE = 500  # seeded task issues are T501…: the demo project's tasks (T1…T40) start clean here

DEFAULT_LABELS: tuple[tuple[str, str, str], ...] = (
    ("bug", "d73a4a", "Something isn't working"),
    ("documentation", "0075ca", "Improvements or additions to documentation"),
    ("duplicate", "cfd3d7", "This issue or pull request already exists"),
    ("enhancement", "a2eeef", "New feature or request"),
    ("good first issue", "7057ff", "Good for newcomers"),
    ("help wanted", "008672", "Extra attention is needed"),
    ("invalid", "e4e669", "This doesn't seem right"),
    ("question", "d876e3", "Further information is requested"),
    ("wontfix", "ffffff", "This will not be worked on"),
)
EXTRA_LABELS: tuple[tuple[str, str, str | None], ...] = (
    (TASK_LABEL, "1d76db", "Tracked by almdesk"),
    ("High", "b60205", None),
    ("Medium", "fbca04", None),
    ("Low", "0e8a16", None),
    ("security", "ee0701", "Security work"),
    ("severity:high", "b60205", None),
    ("severity:medium", "fbca04", None),
    ("severity:low", "c2e0c6", None),
)

TASK_TITLES = (
    "Validate all untrusted input on the server side",
    "Use parameterized queries for database access",
    "Encode output for the HTML context",
    "Store passwords with a slow salted hash",
    "Protect session cookies with Secure and HttpOnly",
    "Enforce authorization on every request",
    "Log security events without sensitive data",
    "Use TLS for all connections carrying credentials",
    "Lock accounts after repeated failed logins",
    "Keep third-party components up to date",
    "Set a strict Content-Security-Policy",
    "Protect state-changing requests against CSRF",
    "Limit the size of uploaded files",
    "Rotate and protect encryption keys",
    "Review error messages for information leaks",
)
OTHER_TITLES = (
    "Crash when saving an empty form",
    "Dark mode for the dashboard",
    "Export report as CSV",
    "Slow search on large projects",
    "Typo on the login page",
    "Add keyboard shortcuts to the editor",
    "Pagination resets after refresh",
    "Support SSO sign-in",
    "Date picker ignores the locale",
    "Broken link in the help menu",
)
PRIORITY_LABELS = ("High", "Medium", "Low")


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _token(rng: random.Random, prefix: str, length: int = 36) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return prefix + "".join(rng.choice(alphabet) for _ in range(length))


def _labels(world: World, repo: Repo, extra: bool) -> None:
    """GitHub's default labels (``default: true``), plus almdesk's and severity labels when ``extra``."""
    for name, color, description in DEFAULT_LABELS:
        repo.labels[name.lower()] = Label(world.new_id(), name, color, description, default=True)
    for extra_name, extra_color, extra_description in EXTRA_LABELS if extra else ():
        repo.labels[extra_name.lower()] = Label(world.new_id(), extra_name, extra_color, extra_description)


def _repo(world: World, owner: str, name: str, **kwargs: object) -> Repo:
    repo = Repo(world.new_id(), owner, name, **kwargs)  # type: ignore[arg-type]
    world.repos[repo.full_name.lower()] = repo
    return repo


def add_issue(world: World, repo: Repo, title: str, user: str, created: datetime, **kwargs: object) -> Issue:
    """Append an issue (or pull request) with the next number; ``updated_at`` defaults to ``created``."""
    issue = Issue(world.new_id(), repo.next_number, title, user, created_at=_stamp(created),
                  updated_at=_stamp(created), **kwargs)  # type: ignore[arg-type]
    repo.issues[issue.number] = issue
    repo.next_number += 1
    return issue


def _seed_issues(world: World, repo: Repo, count: int, rng: random.Random, start: datetime) -> None:
    users = (BOT, "dev-alice", "dev-bob")
    moment = start
    tasks = 0
    for i in range(count):
        moment += timedelta(hours=rng.randint(1, 30), minutes=rng.randint(0, 59))
        roll = rng.random()
        labels: list[str] = []
        body: str | None
        milestone = None
        if roll < 0.08:  # a pull request
            title, body, pull = f"Fix {rng.choice(OTHER_TITLES).lower()}", "Fixes a reported problem.", True
        elif roll < 0.5:  # an almdesk task issue (T501…T560: clear of the demo project's T1…T40)
            task = TASK_BASE + 1 + (i % 60)
            title = f"T{task}: {TASK_TITLES[task % len(TASK_TITLES)]}"
            body, pull = f"Task T{task} imported by almdesk.", False
            labels = [TASK_LABEL, rng.choice(PRIORITY_LABELS)]
            tasks += 1
        else:
            title = rng.choice(OTHER_TITLES)
            body, pull = "Steps to reproduce are in the description." if rng.random() < 0.7 else None, False
            labels = [rng.choice(("bug", "bug", "enhancement", "documentation", "security"))]
            if "bug" in labels or "security" in labels:
                labels.append(rng.choice(("severity:high", "severity:medium", "severity:low")))
            milestone = rng.choice((None, 1, 2, 2, 3))
        issue = add_issue(world, repo, title, rng.choice(users), moment, body=body, labels=labels,
                          milestone=milestone, pull_request=pull, comments=rng.randint(0, 6))
        task_done = TASK_LABEL in labels and tasks % 4 == 2  # every task issue list has closed ones
        if task_done or rng.random() < 0.35:
            closed = moment + timedelta(days=rng.randint(0, 20))
            issue.state = "closed"
            issue.closed_at = issue.updated_at = _stamp(closed)
            issue.closed_by = rng.choice(users)
            issue.state_reason = None if pull else rng.choice(("completed", "completed", "not_planned"))
            if not pull and not task_done and rng.random() < 0.1:
                issue.labels.append("duplicate")
                issue.state_reason = "duplicate"  # "Close as duplicate", a state reason since 2025
        elif rng.random() < 0.3:
            issue.updated_at = _stamp(moment + timedelta(days=rng.randint(1, 9)))
            if not pull and i % 5 == 0:  # closed once, then reopened
                issue.state_reason = "reopened"


def build_world(seed: int = 0, issues: int = 320) -> tuple[World, dict[str, str]]:
    """The seeded world and the named tokens (``admin``, ``readonly``, ``public``)."""
    rng = random.Random(f"github-{seed}")
    world = World()
    for login, kind, name in ((BOT, "User", "almdesk bot"), ("dev-alice", "User", "Alice Dev"),
                              ("dev-bob", "User", "Bob Dev"), (ORG, "Organization", "almdesk demo"),
                              ("other-org", "Organization", "Another organisation")):
        world.users[login.lower()] = User(login, world.new_id(), kind, name)
    tokens = {
        "admin": _token(rng, "ghp_"),
        "readonly": _token(rng, "github_pat_", 60),
        "public": _token(rng, "ghp_"),
    }
    world.tokens[tokens["admin"]] = Token(tokens["admin"], BOT, ("repo", "read:org"))
    world.tokens[tokens["readonly"]] = Token(tokens["readonly"], BOT, None, issues_write=False)
    world.tokens[tokens["public"]] = Token(tokens["public"], BOT, ("public_repo",))

    team = {BOT.lower(): "admin", "dev-alice": "write", "dev-bob": "triage"}
    start = datetime(2024, 1, 8, 9, 0, tzinfo=UTC)
    webapp = _repo(world, ORG, DEMO_REPO, private=True, collaborators=dict(team),
                   description="The demo web application")
    _labels(world, webapp, extra=True)
    for number, (title, state) in enumerate((("v1.0", "open"), ("v2.0", "open"), ("v0.9", "closed")), 1):
        webapp.milestones[number] = Milestone(world.new_id(), number, title, BOT, state,
                                              description=f"Release {title}",
                                              due_on=_stamp(start + timedelta(days=60 * number)),
                                              created_at=_stamp(start), updated_at=_stamp(start),
                                              closed_at=_stamp(start + timedelta(days=30)) if state == "closed" else None)
    _seed_issues(world, webapp, issues, rng, start)

    site = _repo(world, ORG, "public-site", private=False, collaborators=dict(team),
                 description="The public web site")
    _labels(world, site, extra=True)
    _seed_issues(world, site, 12, rng, start)

    legacy = _repo(world, ORG, "legacy", private=True, has_issues=False, collaborators=dict(team))
    _labels(world, legacy, extra=False)
    old = _repo(world, ORG, "old-tool", private=True, archived=True, collaborators=dict(team))
    _labels(world, old, extra=False)
    _seed_issues(world, old, 5, rng, start)
    shared = _repo(world, "other-org", "shared-lib", private=False, collaborators={BOT.lower(): "read"})
    _labels(world, shared, extra=False)
    _seed_issues(world, shared, 6, rng, start)
    secret = _repo(world, "other-org", "secret", private=True, collaborators={"dev-alice": "admin"})
    _labels(world, secret, extra=False)
    return world, tokens
