"""Searching in the Jira sandbox: JQL evaluated over the data, and the three search endpoints.

Data Center: ``GET/POST /search`` with ``startAt``/``maxResults``/``total`` (``maxResults`` silently capped).
Cloud: ``GET/POST /search/jql`` with ``nextPageToken``/``isLast`` and no total (fields default to ``id``),
``POST /search/approximate-count``, and 410 Gone on the removed ``/search``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable, Collection
from datetime import UTC, datetime, timedelta
from typing import Any

from werkzeug.wrappers import Response

from almdesk.sandbox.base import json_response
from almdesk.sandbox.jira import jql
from almdesk.sandbox.jira.context import ApiError, Call
from almdesk.sandbox.jira.model import CATEGORIES, Issue, JiraData, User, now

Predicate = Callable[[Issue], bool]
REMOVED_SEARCH = ("The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
                  "A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046")
DC_MAX_RESULTS = 1000
CLOUD_MAX_FIELDS = 100
CLOUD_MAX_IDS = 5000


def _value_error(value: str, name: str) -> jql.JqlError:
    return jql.JqlError(f"The value '{value}' does not exist for the field '{name}'.")


class Evaluator:
    """Compiles a parsed query into a predicate and a sort key, resolving names like Jira does."""

    def __init__(self, data: JiraData, user: User | None) -> None:
        self.data = data
        self.user = user

    def search(self, text: str, *, bounded: bool = False) -> list[Issue]:
        query = jql.parse(text)
        if bounded and query.where is None:
            raise jql.JqlError("Unbounded JQL queries are not allowed here. Please add a search restriction to "
                               "your query.")
        match = self.node(query.where) if query.where is not None else (lambda i: True)
        visible = self.user is not None and "BROWSE_PROJECTS" in self.user.permissions
        found = [i for i in self.data.issues.values() if match(i)] if visible else []
        order = query.order_by or [("created", True)]
        unique = next((n for n, (name, _) in enumerate(order) if name.lower() in ("key", "issuekey", "id")), None)
        if unique is None:
            found.sort(key=lambda i: i.id, reverse=True)  # ties: newest first
        else:
            order = order[:unique + 1]  # keys are unique: later sort fields and the tie-break change nothing
        for name, desc in reversed(order):
            found.sort(key=self.sort_key(name), reverse=desc)
        return found

    def node(self, node: jql.Node) -> Predicate:
        if isinstance(node, jql.And):
            parts = [self.node(n) for n in node.items]
            return _chain(parts, every=True)
        if isinstance(node, jql.Or):
            parts = [self.node(n) for n in node.items]
            return _chain(parts, every=False)
        if isinstance(node, jql.Not):
            inner = self.node(node.item)
            return lambda i: not inner(i)
        return self.clause(node)

    # --- clauses --------------------------------------------------------------------------
    def clause(self, c: jql.Clause) -> Predicate:
        name = c.field.lower()
        data = self.data
        if name == "project":
            return self.ids(c, lambda i: (i.project,), lambda v: self._one(data.project_by_any(v), v, "project"))
        if name in ("issuetype", "type"):
            return self.ids(c, lambda i: (i.issuetype,), lambda v: {t.id for t in data.issue_types.values()
                                                                    if t.name.lower() == v.lower() or t.id == v}
                            or _raise(_value_error(v, "issuetype")))
        if name == "status":
            return self.ids(c, lambda i: (i.status,), lambda v: {s.id for s in data.statuses.values()
                                                                 if s.name.lower() == v.lower() or s.id == v}
                            or _raise(_value_error(v, "status")))
        if name == "statuscategory":
            return self.ids(c, lambda i: (data.statuses[i.status].category,), self._category)
        if name == "priority":
            return self.ids(c, lambda i: (i.priority,) if i.priority else (),
                            lambda v: {p[0]} if (p := data.priority_named(v)) else _raise(_value_error(v, "priority")))
        if name == "resolution":
            return self.ids(c, lambda i: (i.resolution,) if i.resolution else (), self._resolution)
        if name == "labels":
            return self.ids(c, lambda i: i.labels, lambda v: {v}, multi=True)
        if name == "fixversion":
            return self.ids(c, lambda i: i.fix_versions, self._version, multi=True)
        if name in ("key", "issuekey", "id", "issue"):
            return self.keys(c, lambda i: i)
        if name == "parent":
            return self.keys(c, lambda i: data.issues.get(i.parent) if i.parent else None)
        if name in ("summary", "description", "text", "comment"):
            return self.text(c, name)
        if name in ("created", "createddate", "updated", "updateddate", "resolved", "resolutiondate"):
            attr = {"c": "created", "u": "updated"}.get(name[0], "resolved")
            return self.dates(c, lambda i: getattr(i, attr))
        f = data.field_by_any(c.field)
        if f is not None and f.custom:
            if f.allowed:
                return self.ids(c, lambda i: (str(i.custom[f.id]).lower(),) if i.custom.get(f.id) else (),
                                lambda v: {v.lower()} if v.lower() in (a.lower() for a in f.allowed)
                                else _raise(jql.JqlError(f"The option '{v}' for field '{f.name}' does not exist.")))
            if c.op in ("~", "!~"):
                return self.text(c, f.id)
            return self.ids(c, lambda i: (str(i.custom[f.id]),) if i.custom.get(f.id) else (), lambda v: {v})
        raise jql.JqlError(f"Field '{c.field}' does not exist or you do not have permission to view it.")

    @staticmethod
    def _one(project: Any, value: str, name: str) -> set[str]:
        if project is None:
            raise _value_error(value, name)
        return {project.id}

    def _category(self, v: str) -> set[str]:
        for key, (cid, label, _) in CATEGORIES.items():
            if v.lower() in (key, label.lower(), str(cid)):
                return {key}
        raise _value_error(v, "statusCategory")

    def _resolution(self, v: str) -> set[str]:
        if v.lower() == "unresolved":
            return {"__none__"}
        r = self.data.resolution_named(v)
        return {r[0]} if r else _raise(_value_error(v, "resolution"))

    def _version(self, v: str) -> set[str]:
        ids = {ver.id for p in self.data.projects.values() for ver in p.versions if ver.name.lower() == v.lower()
               or ver.id == v}
        return ids or _raise(_value_error(v, "fixVersion"))

    def _values(self, c: jql.Clause) -> list[str]:
        operand = c.operand
        if isinstance(operand, jql.Value):
            return [operand.text]
        if isinstance(operand, list):
            return [v.text for v in operand]
        if isinstance(operand, jql.FunctionCall):
            if operand.name.lower() == "currentuser" and self.user is not None:
                return [self.user.key]
            raise jql.JqlError(f"Unable to find JQL function '{operand.name}({', '.join(operand.args)})'.")
        return []

    def _unsupported(self, c: jql.Clause) -> jql.JqlError:
        return jql.JqlError(f"The operator '{c.op.upper()}' is not supported by the '{c.field}' field.")

    def ids(self, c: jql.Clause, actual: Callable[[Issue], Collection[str]], resolve: Callable[[str], set[str]],
            multi: bool = False) -> Predicate:
        """``actual`` gives an issue's values (a tuple or list; no set is built per issue)."""
        if c.op in ("is", "is not"):
            if not isinstance(c.operand, jql.Empty):
                raise self._unsupported(c)
            want_empty = c.op == "is"
            return lambda i: (not actual(i)) == want_empty
        if c.op not in ("=", "!=", "in", "not in"):
            raise self._unsupported(c)
        if isinstance(c.operand, jql.Empty):
            return lambda i: (not actual(i)) == (c.op in ("=", "in"))
        wanted: set[str] = set()
        for v in self._values(c):
            wanted |= resolve(v)
        positive = c.op in ("=", "in")
        unresolved = "__none__" in wanted
        if positive and not unresolved:
            if len(wanted) == 1:
                (one,) = wanted
                return lambda i: one in actual(i)
            return lambda i: not wanted.isdisjoint(actual(i))

        def match(i: Issue) -> bool:
            have = actual(i)
            hit = not wanted.isdisjoint(have) or (unresolved and not have)
            if positive:
                return hit
            return not hit and (bool(have) or not multi)
        return match

    def keys(self, c: jql.Clause, target: Callable[[Issue], Issue | None]) -> Predicate:
        if c.op in ("is", "is not"):
            want_empty = c.op == "is"
            return lambda i: (target(i) is None) == want_empty
        refs: list[Issue] = []
        for v in self._values(c):
            issue = self.data.issue(v)
            if issue is None:
                raise jql.JqlError(f"An issue with key '{v}' does not exist for field '{c.field}'.")
            refs.append(issue)
        ids = {r.id for r in refs}
        if c.op in ("=", "in"):
            return lambda i: (t := target(i)) is not None and t.id in ids
        if c.op in ("!=", "not in"):
            return lambda i: (t := target(i)) is not None and t.id not in ids
        if c.op in (">", ">=", "<", "<=") and len(refs) == 1:
            ref = refs[0]
            cmp = _COMPARE[c.op]
            return lambda i: (t := target(i)) is not None and t.project == ref.project and cmp(t.number, ref.number)
        raise self._unsupported(c)

    def text(self, c: jql.Clause, name: str) -> Predicate:
        if c.op in ("is", "is not") and name == "description":
            want_empty = c.op == "is"
            return lambda i: (not i.description) == want_empty
        if c.op not in ("~", "!~") or not isinstance(c.operand, jql.Value):
            raise self._unsupported(c)
        terms = jql.parse_text_query(c.operand.text, c.field)
        positive = c.op == "~"

        def content(i: Issue) -> str:
            if name == "summary":
                return i.summary
            if name == "description":
                return i.description
            if name == "text":
                return f"{i.summary}\n{i.description}"
            if name == "comment":
                return ""
            return str(i.custom.get(name) or "")
        return lambda i: jql.text_matches(terms, content(i)) == positive

    def dates(self, c: jql.Clause, actual: Callable[[Issue], datetime | None]) -> Predicate:
        if c.op in ("is", "is not"):
            want_empty = c.op == "is"
            return lambda i: (actual(i) is None) == want_empty
        values = self._values(c)
        if c.op not in _COMPARE or len(values) != 1:
            raise self._unsupported(c)
        when = parse_date(values[0], c.field)
        cmp = _COMPARE[c.op]
        return lambda i: (d := actual(i)) is not None and cmp(d, when)

    # --- ordering -------------------------------------------------------------------------
    def sort_key(self, name: str) -> Callable[[Issue], Any]:
        low = name.lower()
        data = self.data
        if low in ("key", "issuekey", "id"):
            keys = {pid: p.key for pid, p in data.projects.items()}
            return lambda i: (keys[i.project], i.number)
        if low in ("created", "createddate"):
            return lambda i: i.created
        if low in ("updated", "updateddate"):
            return lambda i: i.updated
        if low == "priority":
            ranks = {pid: n for n, (pid, _) in enumerate(data.priorities)}
            return lambda i: ranks.get(i.priority or "", 99)
        if low == "summary":
            return lambda i: i.summary.lower()
        if low == "status":
            return lambda i: data.statuses[i.status].name.lower()
        if low in ("issuetype", "type"):
            return lambda i: data.issue_types[i.issuetype].name.lower()
        if low == "project":
            return lambda i: data.projects[i.project].key
        raise jql.JqlError(f"Field '{name}' does not exist or you do not have permission to view it.")


def _chain(parts: list[Predicate], *, every: bool) -> Predicate:
    """``all``/``any`` of the predicates, as nested closures (no generator per issue)."""
    if not parts:
        return (lambda i: True) if every else (lambda i: False)
    head = parts[0]
    for part in parts[1:]:
        head = _both(head, part) if every else _either(head, part)
    return head


def _both(a: Predicate, b: Predicate) -> Predicate:
    return lambda i: a(i) and b(i)


def _either(a: Predicate, b: Predicate) -> Predicate:
    return lambda i: a(i) or b(i)


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b, "!=": lambda a, b: a != b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b,
}


def _raise(exc: Exception) -> set[str]:
    raise exc


def parse_date(text: str, field_name: str) -> datetime:
    """Jira's date values: yyyy-MM-dd, yyyy/MM/dd, optionally HH:mm, or relative like -5d, -2h, -1w."""
    rel = re.fullmatch(r"([+-]?)(\d+)([wdhm])", text.strip())
    if rel:
        unit = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}[rel.group(3)]
        delta = timedelta(**{unit: int(rel.group(2))})
        return now() - delta if rel.group(1) == "-" else now() + delta
    for fmt in ("%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y-%m-%d", "%Y/%m/%d"):
        try:
            return datetime.strptime(text.strip(), fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise jql.JqlError(f"Date value '{text}' for field '{field_name}' is invalid. Valid formats include: "
                       "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format "
                       "e.g. '-5d', '4w 2d'.")


# ---------------------------------------------------------------------------------------------
# Endpoints


def _run(call: Call, text: str, bounded: bool) -> list[Issue]:
    try:
        return Evaluator(call.data, call.user).search(text, bounded=bounded)
    except jql.JqlError as exc:
        raise ApiError(400, [str(exc)]) from None


def _fields_param(value: Any) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _expand_param(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value or "")


def _render_page(call: Call, issues: list[Issue], fields: list[str] | None, expand: str) -> list[dict[str, Any]]:
    render = call.render
    wanted = render.select_fields(fields)
    out = []
    for issue in issues:
        transitions = None
        if "transitions" in expand:
            transitions = (call.data.workflow_for(issue).available(issue.status)
                           if call.can("TRANSITION_ISSUES") else [])
        out.append(render.issue(issue, fields, expand, transitions, wanted=wanted))
    return out


def search_dc(call: Call) -> Response:
    """Data Center's /search (Cloud answers 410 Gone)."""
    if call.cloud:
        return json_response({"errorMessages": [REMOVED_SEARCH], "errors": {}}, 410)
    if call.request.method == "POST":
        body = call.object_body()
        text = str(body.get("jql") or "")
        start = int(body.get("startAt") or 0)
        max_results = int(body["maxResults"]) if body.get("maxResults") is not None else 50
        fields = _fields_param(body.get("fields"))
        expand = _expand_param(body.get("expand"))
    else:
        text = call.arg("jql")
        start = call.int_arg("startAt", 0)
        max_results = call.int_arg("maxResults", 50)
        fields = call.list_arg("fields")
        expand = call.arg("expand")
    if start < 0 or max_results < 0:
        raise ApiError(400, ["startAt and maxResults must not be negative."])
    max_results = min(max_results, call.options.get("max_results") or DC_MAX_RESULTS)
    found = _run(call, text, bounded=False)
    page = found[start:start + max_results]
    return json_response({"expand": "schema,names", "startAt": start, "maxResults": max_results,
                          "total": len(found), "issues": _render_page(call, page, fields, expand)})


def _token(offset: int, fingerprint: str, chain: int) -> str:
    raw = json.dumps({"o": offset, "f": fingerprint, "c": chain}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _untoken(token: str, fingerprint: str) -> tuple[int, int]:
    """The offset and the result chain a ``nextPageToken`` stands for (400 when it is not one of ours)."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if raw["f"] == fingerprint:
            return int(raw["o"]), int(raw.get("c", 0))
    except (ValueError, KeyError, TypeError, AttributeError):
        pass
    raise ApiError(400, ["The provided next page token is invalid or expired."])


def search_jql(call: Call) -> Response:
    """Cloud's enhanced search: token paging, no total, ``id`` only unless fields are asked for.

    A real Jira answers from an index; the sandbox evaluates the JQL over its issues once per token chain
    and keeps the sorted result (issue ids) for the chain's next pages (see :class:`SearchChains`), so a
    chain pages through one consistent result. A token whose chain was evicted is still valid: the query
    is evaluated again and the page taken at the token's offset (the sandbox's behaviour before the cache).
    """
    if call.request.method == "POST":
        body = call.object_body()
        text = str(body.get("jql") or "")
        token = body.get("nextPageToken")
        max_results = int(body["maxResults"]) if body.get("maxResults") is not None else 50
        fields = _fields_param(body.get("fields"))
        expand = _expand_param(body.get("expand"))
        reconcile = body.get("reconcileIssues") or []
    else:
        text = call.arg("jql")
        token = call.request.args.get("nextPageToken")
        max_results = call.int_arg("maxResults", 50)
        fields = call.list_arg("fields")
        expand = call.arg("expand")
        reconcile = call.request.args.getlist("reconcileIssues")
    if len(reconcile) > 50:
        raise ApiError(400, ["reconcileIssues accepts at most 50 issue ids."])
    fields = fields if fields is not None else ["id"]
    ids_only = all(f.strip() in ("id", "key", "") for raw in fields for f in raw.split(","))
    cap = call.options.get("max_results") or (CLOUD_MAX_IDS if ids_only else CLOUD_MAX_FIELDS)
    max_results = max(1, min(max_results, cap))
    fingerprint = hashlib.sha1(f"{text}|{fields}|{max_results}".encode()).hexdigest()[:12]
    offset, chain = _untoken(str(token), fingerprint) if token else (0, 0)
    chains = call.data.search_chains
    who = call.user.key if call.user is not None else ""
    ids = chains.get(chain, who, text) if token else None
    if ids is None:
        found = _visible_now(call, _run(call, text, bounded=True), reconcile)
        ids = [i.id for i in found]
        chain = chains.put(chain or None, who, text, ids)
    else:
        _tick_lag(call)  # every search counts towards a lagging issue's visibility
    issues = call.data.issues
    page = [issue for iid in ids[offset:offset + max_results] if (issue := issues.get(iid)) is not None]
    out: dict[str, Any] = {"issues": _render_page(call, page, fields, expand)}
    if offset + max_results < len(ids):
        out["nextPageToken"] = _token(offset + max_results, fingerprint, chain)
        out["isLast"] = False
    else:
        out["isLast"] = True
    return json_response(out)


def _visible_now(call: Call, found: list[Issue], reconcile: list[Any]) -> list[Issue]:
    """Cloud search is eventually consistent: new issues show up only after ``search_lag`` searches,
    unless the caller names them in ``reconcileIssues``."""
    pending = call.data.unindexed
    if not pending:
        return found
    wanted = {int(i) for i in reconcile if str(i).isdigit()}
    out = [i for i in found if i.id not in pending or i.id in wanted]
    _tick_lag(call)
    return out


def _tick_lag(call: Call) -> None:
    pending = call.data.unindexed
    for iid in list(pending):
        pending[iid] -= 1
        if pending[iid] <= 0:
            del pending[iid]


def approximate_count(call: Call) -> Response:
    body = call.object_body()
    found = _run(call, str(body.get("jql") or ""), bounded=True)
    return json_response({"count": len(found)})
