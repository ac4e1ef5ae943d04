"""What Jira can list for a form's pickers: projects, a project's issue types, versions and the
workflow transitions its issues offer.

Contract (:class:`~almdesk.systems.base.ChoicesModule`): ``choices(field, connector, params, http)``
returns (value, label) pairs, read with the connector settings and the connection params as given.
The issue types, versions, statuses and transitions need ``alm_project``: without it, a ConfigError names that
field. Transitions come from the project's issues (Jira has no project-wide transition list a plain
account may read): the union over up to 50 recently updated issues of the issue type.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from almdesk.base.settings import ConnectorSettings
from almdesk.errors import ConfigError
from almdesk.net.session import HttpFactory
from almdesk.systems.jira import jql
from almdesk.systems.jira.client import JiraClient

LISTABLE = frozenset({"alm_project", "jira_issue_type", "alm_project_version", "jira_close_transition",
                      "jira_reopen_transition", "jira_done_statuses"})
SAMPLE = 50  # issues read for their transitions


def _project(params: Mapping[str, Any]) -> str:
    project = str(params.get("alm_project") or "").strip()
    if not project:
        raise ConfigError("Enter the project key first.", "The list depends on the project; pick it from the "
                          "server or type it.", field="alm_project")
    return project


def choices(field: str, connector: ConnectorSettings, params: Mapping[str, Any],
            http: HttpFactory) -> list[tuple[str, str]]:
    client = JiraClient(connector, http)
    try:
        if field == "alm_project":
            return [(str(p["key"]), f"{p['key']} — {p.get('name', '')}") for p in client.projects()]
        project = _project(params)
        if field == "jira_issue_type":
            return [(str(t["name"]), f"{t['name']} (sub-task)" if t.get("subtask") else str(t["name"]))
                    for t in client.create_issue_types(project)]
        if field == "alm_project_version":
            return [(str(v["name"]), str(v["name"]) + (" (released)" if v.get("released") else ""))
                    for v in client.versions(project) if not v.get("archived")]
        if field == "jira_done_statuses":
            return _statuses(client, project, str(params.get("jira_issue_type") or "").strip())
        if field in ("jira_close_transition", "jira_reopen_transition"):
            return _transitions(client, project, str(params.get("jira_issue_type") or "").strip())
        raise ConfigError(f"Jira cannot list {field!r}.", "Type the value instead.", field=field)
    finally:
        client.close()


def _statuses(client: JiraClient, project: str, issue_type: str) -> list[tuple[str, str]]:
    """The statuses of the issue type's workflow (every type's when it is not named or not found)."""
    per_type = client.project_statuses(project)
    chosen = [e for e in per_type if str(e.get("name") or "").lower() == issue_type.lower()] or per_type
    names = dict.fromkeys(str(s.get("name")) for e in chosen for s in e.get("statuses") or [])
    return [(name, name) for name in names]


def _transitions(client: JiraClient, project: str, issue_type: str) -> list[tuple[str, str]]:
    clauses = [jql.equals("project", project)] + ([jql.equals("issuetype", issue_type)] if issue_type else [])
    found: dict[str, set[str]] = {}
    for page in client.search_pages(jql.conjunction(clauses, "updated DESC"), ["status"], page_size=SAMPLE,
                                    expand="transitions", limit=SAMPLE):
        for issue in page:
            status = str(((issue.get("fields") or {}).get("status") or {}).get("name") or "?")
            for t in issue.get("transitions") or []:
                found.setdefault(str(t.get("name")), set()).add(status)
    return [(name, f"{name} (from {', '.join(sorted(froms))})") for name, froms in sorted(found.items())]
