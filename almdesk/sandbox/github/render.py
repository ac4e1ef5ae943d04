"""JSON shapes of the GitHub sandbox, as the REST API (and its OpenAPI document) defines them.

``api`` is the API base of the request (``http://host:port`` or ``http://host:port/api/v3``),
``web`` the browser base (``http://host:port``); every URL in a response is built from them so
clients that follow ``url`` fields (PyGithub) stay on the same server and prefix.
"""

from __future__ import annotations

import base64
from collections import Counter
from operator import attrgetter, countOf
from typing import Any
from urllib.parse import quote

from almdesk.sandbox.github.model import Issue, Label, Milestone, Repo, User, World, permissions

DOCS = "https://docs.github.com/rest"


def node_id(kind: str, ident: int) -> str:
    return base64.b64encode(f"0:{kind}{ident}".encode()).decode().rstrip("=")


def simple_user(user: User, api: str, web: str) -> dict[str, Any]:
    u = f"{api}/users/{user.login}"
    return {
        "login": user.login, "id": user.id, "node_id": node_id("User", user.id),
        "avatar_url": f"{web}/avatars/{user.login}", "gravatar_id": "", "url": u,
        "html_url": f"{web}/{user.login}", "followers_url": f"{u}/followers",
        "following_url": f"{u}/following{{/other_user}}", "gists_url": f"{u}/gists{{/gist_id}}",
        "starred_url": f"{u}/starred{{/owner}}{{/repo}}", "subscriptions_url": f"{u}/subscriptions",
        "organizations_url": f"{u}/orgs", "repos_url": f"{u}/repos", "events_url": f"{u}/events{{/privacy}}",
        "received_events_url": f"{u}/received_events", "type": user.type, "site_admin": False,
    }


def public_user(user: User, world: World, api: str, web: str) -> dict[str, Any]:
    owned = [r for r in world.repos.values() if r.owner.lower() == user.login.lower()]
    return {
        **simple_user(user, api, web), "name": user.name, "company": None, "blog": "", "location": None,
        "email": None, "hireable": None, "bio": None, "twitter_username": None,
        "public_repos": sum(1 for r in owned if not r.private), "public_gists": 0, "followers": 0,
        "following": 0, "created_at": user.created_at, "updated_at": user.created_at,
    }


def private_user(user: User, world: World, api: str, web: str) -> dict[str, Any]:
    owned = [r for r in world.repos.values() if r.owner.lower() == user.login.lower()]
    private = sum(1 for r in owned if r.private)
    return {
        **public_user(user, world, api, web), "private_gists": 0, "total_private_repos": private,
        "owned_private_repos": private, "disk_usage": 0, "collaborators": 0, "two_factor_authentication": True,
        "plan": {"name": "free", "space": 976562499, "private_repos": 10000, "collaborators": 0},
    }


def label(lab: Label, repo: Repo, api: str) -> dict[str, Any]:
    return {"id": lab.id, "node_id": node_id("Label", lab.id),
            "url": f"{api}/repos/{repo.full_name}/labels/{quote(lab.name, safe='')}", "name": lab.name,
            "color": lab.color, "default": lab.default, "description": lab.description}


def milestone_counts(repo: Repo) -> dict[int, tuple[int, int]]:
    """Open and closed issues (pull requests left out) of each of ``repo``'s milestones, in one pass."""
    tally = Counter(map(attrgetter("milestone", "state", "pull_request"), repo.issues.values()))  # one C-level pass
    return {number: (tally[(number, "open", False)], tally[(number, "closed", False)]) for number in repo.milestones}


def milestone(ms: Milestone, repo: Repo, world: World, api: str, web: str,
              counts: dict[int, dict[int, tuple[int, int]]] | None = None) -> dict[str, Any]:
    """A milestone; ``counts`` caches :func:`milestone_counts` per repository id for one response (a page of
    issues renders the same milestones again and again)."""
    cache = {} if counts is None else counts
    if repo.id not in cache:
        cache[repo.id] = milestone_counts(repo)
    open_issues, closed_issues = cache[repo.id].get(ms.number, (0, 0))
    creator = world.user(ms.creator)
    return {
        "url": f"{api}/repos/{repo.full_name}/milestones/{ms.number}",
        "html_url": f"{web}/{repo.full_name}/milestone/{ms.number}",
        "labels_url": f"{api}/repos/{repo.full_name}/milestones/{ms.number}/labels",
        "id": ms.id, "node_id": node_id("Milestone", ms.id), "number": ms.number, "state": ms.state,
        "title": ms.title, "description": ms.description,
        "creator": simple_user(creator, api, web) if creator else None,
        "open_issues": open_issues, "closed_issues": closed_issues,
        "created_at": ms.created_at, "updated_at": ms.updated_at, "closed_at": ms.closed_at, "due_on": ms.due_on,
    }


def issue(item: Issue, repo: Repo, world: World, api: str, web: str,
          counts: dict[int, dict[int, tuple[int, int]]] | None = None) -> dict[str, Any]:
    base = f"{api}/repos/{repo.full_name}/issues/{item.number}"
    user = world.user(item.user)
    closer = world.user(item.closed_by) if item.closed_by else None
    labels = [label(lab, repo, api) for name in item.labels if (lab := repo.label(name)) is not None]
    ms = repo.milestones.get(item.milestone) if item.milestone else None
    kind = "pull" if item.pull_request else "issues"
    body: dict[str, Any] = {
        "id": item.id, "node_id": node_id("PullRequest" if item.pull_request else "Issue", item.id),
        "url": base, "repository_url": f"{api}/repos/{repo.full_name}", "labels_url": f"{base}/labels{{/name}}",
        "comments_url": f"{base}/comments", "events_url": f"{base}/events",
        "html_url": f"{web}/{repo.full_name}/{kind}/{item.number}", "number": item.number,
        "state": item.state, "state_reason": item.state_reason, "title": item.title, "body": item.body,
        "user": simple_user(user, api, web) if user else None, "labels": labels, "assignee": None,
        "assignees": [], "milestone": milestone(ms, repo, world, api, web, counts) if ms else None,
        "locked": item.locked, "active_lock_reason": None, "comments": item.comments,
        "closed_at": item.closed_at, "created_at": item.created_at, "updated_at": item.updated_at,
        "closed_by": simple_user(closer, api, web) if closer else None,
        "author_association": _association(repo, item.user), "timeline_url": f"{base}/timeline",
        "performed_via_github_app": None, "type": None,
        "sub_issues_summary": {"total": 0, "completed": 0, "percent_completed": 0},
        "issue_dependencies_summary": {"blocked_by": 0, "total_blocked_by": 0, "blocking": 0, "total_blocking": 0},
        "reactions": {"url": f"{base}/reactions", "total_count": 0, "+1": 0, "-1": 0, "laugh": 0,
                      "confused": 0, "heart": 0, "hooray": 0, "eyes": 0, "rocket": 0},
    }
    if item.pull_request:
        pull = f"{api}/repos/{repo.full_name}/pulls/{item.number}"
        html = f"{web}/{repo.full_name}/pull/{item.number}"
        body["pull_request"] = {"url": pull, "html_url": html, "diff_url": f"{html}.diff",
                                "patch_url": f"{html}.patch",
                                "merged_at": item.closed_at if item.state == "closed" else None}
        body["draft"] = False
    return body


def _association(repo: Repo, login: str) -> str:
    if login.lower() == repo.owner.lower():
        return "OWNER"
    return "MEMBER" if login.lower() in repo.collaborators else "NONE"


def repository(repo: Repo, world: World, role: str | None, api: str, web: str, *, full: bool) -> dict[str, Any]:
    owner = world.user(repo.owner) or User(repo.owner, 0, "Organization")
    r = f"{api}/repos/{repo.full_name}"
    host = web.split("://", 1)[-1]
    open_count = countOf(map(attrgetter("state"), repo.issues.values()), "open")
    body: dict[str, Any] = {
        "id": repo.id, "node_id": node_id("Repository", repo.id), "name": repo.name, "full_name": repo.full_name,
        "owner": simple_user(owner, api, web), "private": repo.private, "html_url": f"{web}/{repo.full_name}",
        "description": repo.description, "fork": False, "url": r,
        "archive_url": f"{r}/{{archive_format}}{{/ref}}", "assignees_url": f"{r}/assignees{{/user}}",
        "blobs_url": f"{r}/git/blobs{{/sha}}", "branches_url": f"{r}/branches{{/branch}}",
        "collaborators_url": f"{r}/collaborators{{/collaborator}}", "comments_url": f"{r}/comments{{/number}}",
        "commits_url": f"{r}/commits{{/sha}}", "compare_url": f"{r}/compare/{{base}}...{{head}}",
        "contents_url": f"{r}/contents/{{+path}}", "contributors_url": f"{r}/contributors",
        "deployments_url": f"{r}/deployments", "downloads_url": f"{r}/downloads", "events_url": f"{r}/events",
        "forks_url": f"{r}/forks", "git_commits_url": f"{r}/git/commits{{/sha}}",
        "git_refs_url": f"{r}/git/refs{{/sha}}", "git_tags_url": f"{r}/git/tags{{/sha}}",
        "git_url": f"git://{host}/{repo.full_name}.git", "issue_comment_url": f"{r}/issues/comments{{/number}}",
        "issue_events_url": f"{r}/issues/events{{/number}}", "issues_url": f"{r}/issues{{/number}}",
        "keys_url": f"{r}/keys{{/key_id}}", "labels_url": f"{r}/labels{{/name}}", "languages_url": f"{r}/languages",
        "merges_url": f"{r}/merges", "milestones_url": f"{r}/milestones{{/number}}",
        "notifications_url": f"{r}/notifications{{?since,all,participating}}", "pulls_url": f"{r}/pulls{{/number}}",
        "releases_url": f"{r}/releases{{/id}}", "ssh_url": f"git@{host}:{repo.full_name}.git",
        "stargazers_url": f"{r}/stargazers", "statuses_url": f"{r}/statuses/{{sha}}",
        "subscribers_url": f"{r}/subscribers", "subscription_url": f"{r}/subscription", "tags_url": f"{r}/tags",
        "teams_url": f"{r}/teams", "trees_url": f"{r}/git/trees{{/sha}}",
        "clone_url": f"{web}/{repo.full_name}.git", "mirror_url": None, "hooks_url": f"{r}/hooks",
        "svn_url": f"{web}/{repo.full_name}", "homepage": None, "language": "Python", "forks_count": 0,
        "forks": 0, "stargazers_count": 0, "watchers_count": 0, "watchers": 0, "size": 128,
        "default_branch": "main", "open_issues_count": open_count, "open_issues": open_count,
        "is_template": False, "topics": [], "has_issues": repo.has_issues, "has_projects": True,
        "has_discussions": False, "has_wiki": False, "has_pages": False, "has_downloads": True, "archived": repo.archived,
        "disabled": False, "visibility": "private" if repo.private else "public",
        "pushed_at": repo.created_at, "created_at": repo.created_at, "updated_at": repo.created_at,
        "license": None, "allow_forking": True, "web_commit_signoff_required": False,
    }
    if role is not None:
        body["permissions"] = permissions(role)
    if full:
        body.update({"network_count": 0, "subscribers_count": 1, "temp_clone_token": None,
                     "allow_squash_merge": True, "allow_merge_commit": True, "allow_rebase_merge": True,
                     "allow_auto_merge": False, "delete_branch_on_merge": False})
        if owner.type == "Organization":
            body["organization"] = simple_user(owner, api, web)
    return body


def root(api: str) -> dict[str, Any]:
    return {
        "current_user_url": f"{api}/user",
        "current_user_authorizations_html_url": f"{api}/settings/connections/applications{{/client_id}}",
        "authorizations_url": f"{api}/authorizations", "code_search_url": f"{api}/search/code?q={{query}}",
        "commit_search_url": f"{api}/search/commits?q={{query}}", "emails_url": f"{api}/user/emails",
        "emojis_url": f"{api}/emojis", "events_url": f"{api}/events", "feeds_url": f"{api}/feeds",
        "followers_url": f"{api}/user/followers", "following_url": f"{api}/user/following{{/target}}",
        "gists_url": f"{api}/gists{{/gist_id}}", "hub_url": f"{api}/hub",
        "issue_search_url": f"{api}/search/issues?q={{query}}", "issues_url": f"{api}/issues",
        "keys_url": f"{api}/user/keys", "label_search_url": f"{api}/search/labels?q={{query}}&repository_id={{id}}",
        "notifications_url": f"{api}/notifications", "organization_url": f"{api}/orgs/{{org}}",
        "organization_repositories_url": f"{api}/orgs/{{org}}/repos{{?type,page,per_page,sort}}",
        "organization_teams_url": f"{api}/orgs/{{org}}/teams", "public_gists_url": f"{api}/gists/public",
        "rate_limit_url": f"{api}/rate_limit", "repository_url": f"{api}/repos/{{owner}}/{{repo}}",
        "repository_search_url": f"{api}/search/repositories?q={{query}}{{&page,per_page,sort,order}}",
        "current_user_repositories_url": f"{api}/user/repos{{?type,page,per_page,sort}}",
        "starred_url": f"{api}/user/starred{{/owner}}{{/repo}}", "starred_gists_url": f"{api}/gists/starred",
        "user_url": f"{api}/users/{{user}}", "user_organizations_url": f"{api}/user/orgs",
        "user_repositories_url": f"{api}/users/{{user}}/repos{{?type,page,per_page,sort}}",
        "user_search_url": f"{api}/search/users?q={{query}}{{&page,per_page,sort,order}}",
    }


def error(message: str, **extra: Any) -> dict[str, Any]:
    return {"message": message, "documentation_url": DOCS, **extra}


def validation_error(resource: str, field: str, code: str, message: str | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"resource": resource, "field": field, "code": code}
    if message:
        item["message"] = message
    return error("Validation Failed", errors=[item])
