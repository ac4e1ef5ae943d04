"""Create Defect and Gate for Jira.

Create Defect makes one issue of the connection's type (summary, description, fix version from the
release, priority from the severity, label, parent, custom fields) and returns its key and browse URL.
The Gate counts open issues of the project and type, narrowed by labels, priorities (severities),
statuses (phases) and fix version (release), in one request: Cloud ``search/approximate-count``,
Data Center ``/search`` with ``maxResults=0`` reading ``total``.
"""

from __future__ import annotations

from almdesk.base.records import (
    CreatedItem,
    DefectRequest,
    GateItem,
    GateRequest,
    GateResult,
    normalize_operator,
)
from almdesk.base.settings import ConnectionSettings
from almdesk.errors import ConfigError
from almdesk.jobs.context import JobContext
from almdesk.net.session import HttpFactory
from almdesk.systems.jira import jql
from almdesk.systems.jira.client import JiraClient, bad_name, connection_field_for
from almdesk.systems.jira.errors import JiraApiError
from almdesk.systems.jira.fields import JiraTarget
from almdesk.systems.jira.payload import issue_fields
from almdesk.systems.jira.resolve import Resolver


def check_summary(text: str, field: str = "name") -> str:
    summary = text.strip()
    if not summary:
        raise ConfigError("The issue needs a summary.", "Enter a name for the issue.", field=field)
    if len(summary) > 255:
        raise ConfigError(f"The summary is {len(summary)} characters; Jira allows at most 255.",
                          "Shorten the name.", field=field)
    if "\n" in summary or "\r" in summary:
        raise ConfigError("The summary has a line break, which Jira does not allow.",
                          "Write the name on one line; put details in the description.", field=field)
    return summary


def create_defect(connection: ConnectionSettings, request: DefectRequest, http: HttpFactory,
                  ctx: JobContext) -> CreatedItem:
    summary = check_summary(request.name)
    target = JiraTarget.from_connection(connection, request.workspace)
    client = JiraClient(connection.connector, http, ctx)
    try:
        ctx.progress(0, 3, f"Checking project {target.project}")
        r = Resolver(client, target)
        project = r.project()
        r.issue_type()
        r.parent()
        labels: list[str] = []
        if target.label:
            try:
                r.labels_allowed()
                labels = [target.label]
            except ConfigError as exc:
                ctx.log(f"Label left out: {exc.message}", "warning")
        found = r.found
        r.custom_fields()
        version = r.version(request.release) if request.release else r.version()
        priority = None
        if request.severity:
            r.screen()
            priority = next((p for p in found.priorities if p.lower() == request.severity.strip().lower()), None)
            if priority is None:
                raise bad_name("Priority", request.severity, found.priorities, "severity",
                               f"the create screen of {found.issue_type['name']}")
        r.required_fields(also=("fixVersions",) if version else ())
        if request.phase:
            ctx.log(f"Jira issues have no phase; {request.phase!r} is not used.", "warning")
        ctx.progress(1, 3, f"Creating the {found.issue_type['name']} in {project['key']}")
        fields = issue_fields(found, cloud=client.cloud, summary=summary, text=request.description, labels=labels,
                              priority=priority, version=version)
        try:
            created = client.create_issue(fields)
        except JiraApiError as exc:
            if exc.status != 400:
                raise
            raise ConfigError(f"Jira did not create the issue: {exc.message.partition(': ')[2] or exc.message}",
                              "Fix the value named above in the connection or the request.",
                              field=connection_field_for(exc.errors)) from None
        key = str(created["key"])
        url = client.browse_url(key)
        ctx.log(f"Created {key}: {url}")
        ctx.progress(3, 3, f"Created {key}")
        return CreatedItem(id=str(created.get("id", key)), key=key, url=url, title=summary)
    finally:
        client.close()


def gate(connection: ConnectionSettings, request: GateRequest, http: HttpFactory, ctx: JobContext) -> GateResult:
    operator = normalize_operator(request.operator)
    target = JiraTarget.from_connection(connection, request.workspace)
    client = JiraClient(connection.connector, http, ctx)
    r = Resolver(client, target)
    ctx.progress(0, 2, f"Resolving names in {target.project}")
    project = r.project()
    key = str(project["key"])
    itype = r.issue_type()
    clauses = [jql.equals("project", key), jql.equals("issuetype", str(itype["name"]))]
    if request.phases:
        statuses = r.statuses()
        wanted = _match_names("Status", request.phases, statuses, "phase", f"the workflow of {itype['name']}")
        clauses.append(jql.one_of("status", wanted))
    else:
        clauses.append(jql.one_of("status", target.done_statuses, negate=True))
    for label in request.labels:
        clauses.append(jql.equals("labels", label))
    if request.severities:
        names = [str(p.get("name")) for p in client.priorities(str(project.get("id") or ""))]
        clauses.append(jql.one_of("priority", _match_names("Priority", request.severities, names, "severity")))
    if request.release:
        versions = [str(v.get("name")) for v in client.versions(key)]
        release = _match_names("Version", [request.release], versions, "release", f"project {key}")
        clauses.append(jql.equals("fixVersion", release[0]))
    query = jql.conjunction(clauses)
    ctx.progress(1, 2, "Counting matching issues")
    count = client.count(query)
    ctx.progress(2, 2, f"{count} matching issue(s)")
    ctx.log(f"JQL: {query}")

    def items(offset: int, limit: int) -> list[GateItem]:
        page = client.search_page_at(query + " ORDER BY key ASC", ["summary", "status"], offset, limit)
        return [GateItem(id=str(i.get("id")), key=str(i.get("key")), title=str((i.get("fields") or {}).get("summary")),
                         url=client.browse_url(str(i.get("key"))),
                         status=str(((i.get("fields") or {}).get("status") or {}).get("name", "")))
                for i in page]

    return GateResult(count=count, threshold=request.threshold, operator=operator, query=query,
                      requests=http.requests, items=items)


def _match_names(kind: str, wanted: list[str], valid: list[str], field: str, where: str = "") -> list[str]:
    """The canonical names of ``wanted`` (case-insensitive); unknown ones fail listing the valid names."""
    lowered = {v.lower(): v for v in valid}
    out = []
    for name in wanted:
        match = lowered.get(name.strip().lower())
        if match is None:
            raise bad_name(kind, name, valid, field, where)
        out.append(match)
    return out
