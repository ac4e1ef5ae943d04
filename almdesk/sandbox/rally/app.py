"""The Rally WSAPI v2.0 sandbox: routing, envelopes, scoping, batch and the schema service.

Paths live under ``/slm/webservice/v2.0`` (and ``/slm/schema/v2.0`` for pyral's schema read):
``GET /{type}`` queries, ``GET|POST /{type}/{ObjectID}`` reads/updates, ``PUT|POST /{type}/create``
creates, ``DELETE /{type}/{ObjectID}`` deletes, ``GET /{type}/{ObjectID}/{Collection}`` reads a
collection, ``POST /batch`` runs several of those, ``GET /security/authorize`` hands out the
security token. Every answer is an envelope (``QueryResult``, ``CreateResult``,
``OperationResult``, ``BatchResult``) with ``Errors`` and ``Warnings``; most errors come with
HTTP 200, as on rally1.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.wrappers import Request, Response

from almdesk.sandbox.base import Latency, Limit, Router, SandboxApp, json_response, rule
from almdesk.sandbox.rally.auth import (
    CONCURRENCY_LIMIT,
    INVALID_KEY,
    READ_ONLY_KEY,
    TOO_MANY,
    AuthFailure,
    Caller,
    Sessions,
    jetty_401,
)
from almdesk.sandbox.rally.query import QueryError
from almdesk.sandbox.rally.render import API, VERSION, Fetch, QueryRunner, Renderer, paging
from almdesk.sandbox.rally.schema import ARTIFACT_TYPES, TypeDef, type_for
from almdesk.sandbox.rally.seed import populate
from almdesk.sandbox.rally.store import Obj, Store, ref_oid

SCHEMA = "/slm/schema/v2.0"
ANY = "GET|POST|PUT|DELETE|PATCH|OPTIONS"
Result = tuple[int, dict[str, Any]]


def envelope(kind: str, errors: list[str] | None = None, warnings: list[str] | None = None,
             **extra: Any) -> dict[str, Any]:
    return {kind: {**VERSION, "Errors": list(errors or []), "Warnings": list(warnings or []), **extra}}


class RallyApp(SandboxApp):
    """A Rally server on loopback with seeded data (see :mod:`almdesk.sandbox.rally.seed`)."""

    system = "rally"

    def __init__(self, seed: int = 0, items: int = 300, strict_rate_limits: bool = False,
                 latency: float = 0.0) -> None:
        super().__init__(seed)
        self.store = Store(seed)
        self.info = populate(self.store, items)
        self.sessions = Sessions()
        self.strict = strict_rate_limits
        self.queries = QueryRunner(self.store)
        self.latency = Latency(latency)
        self.router = Router([rule("/", "home"), rule(f"{API}/<path:rest>", "api", ANY),
                              rule(f"{API}", "api", ANY), rule(f"{SCHEMA}/workspace/<oid>", "schema", ANY),
                              rule(f"{SCHEMA}/<path:rest>", "schema", ANY)])
        self.api_router = Router([rule("/security/authorize", "authorize", "ANY"), rule("/batch", "batch", "ANY"),
                                  rule("/<type>", "type", "ANY"), rule("/<type>/create", "create", "ANY"),
                                  rule("/<type>/<oid>", "object", "ANY"),
                                  rule("/<type>/<oid>/<collection>", "collection", "ANY")])

    # --- SandboxApp -------------------------------------------------------------------------
    def describe(self, base_url: str) -> dict[str, Any]:
        return {"system": "rally", "url": base_url,
                "params": {"alm_server": base_url, "auth_method": "api_key", "alm_user": self.info.admin.username},
                "secrets": {"alm_api_key": self.info.admin.api_key},
                "connection_params": {"rally_workspace": self.info.workspace, "alm_project": self.info.project,
                                      "rally_card_type": "Story"}}

    def expire_sessions(self) -> None:
        self.sessions.expire()

    def renderer(self) -> Renderer:
        return Renderer(self.store, self.base_url or "http://127.0.0.1")

    # --- HTTP -------------------------------------------------------------------------------
    def concurrency_limits(self) -> list[Limit]:
        return [Limit("concurrent", CONCURRENCY_LIMIT, refuse=self.strict)]

    def caller(self, request: Request) -> str:
        """Rally's limit is per user: an API key counts as its owner, basic auth as its user name."""
        key = request.headers.get("ZSESSIONID", "").strip()
        if key:
            oid = self.store.api_keys.get(key)
            return f"user:{oid}" if oid is not None else "anonymous"
        header = request.headers.get("Authorization", "")
        if header.lower().startswith("basic "):
            try:
                name = base64.b64decode(header[6:].strip()).decode("utf-8").partition(":")[0]
            except (ValueError, UnicodeDecodeError):
                return "anonymous"
            user = next((u for u in self.store.by_type["User"].values() if u["UserName"] == name), None)
            return f"user:{user['ObjectID']}" if user is not None else "anonymous"
        return "anonymous"

    def refused(self, request: Request, limit: Limit) -> Response:
        return json_response(envelope("OperationResult", [TOO_MANY]), 429, headers={"Retry-After": "1"})

    def dispatch(self, request: Request) -> Response:
        path = request.path.rstrip("/") or "/"
        try:
            endpoint, values = self.router.match(path, request.method)
        except (NotFound, MethodNotAllowed):
            endpoint, values = None, {}
        if endpoint == "home":
            return Response("<!doctype html><html><head><title>Rally sandbox</title></head><body><h1>Rally "
                            "sandbox</h1><p>WSAPI at /slm/webservice/v2.0</p></body></html>",
                            content_type="text/html")
        if endpoint is None:
            return Response("<!doctype html><html><body><h1>404 Not Found</h1></body></html>", status=404,
                            content_type="text/html")
        try:
            caller = self.sessions.authenticate(self.store, request)
        except AuthFailure as exc:
            return jetty_401(request.path, exc.message)
        params = {k: v for k, v in request.args.items()}
        body: Any = None
        raw = request.get_data(as_text=True)
        if raw.strip():
            try:
                body = json.loads(raw)
            except ValueError as exc:
                return json_response(envelope("OperationResult", [
                    f"Cannot parse input stream due to I/O error as JSON document: {exc}"]))
        with self.lock:
            if endpoint == "schema":
                status, payload = self.schema(values, caller)
            else:
                status, payload = self.handle(request.method, values.get("rest", ""), params, body, caller)
        response = json_response(payload, status)
        if caller.new_session:
            response.set_cookie("JSESSIONID", caller.session_id, httponly=True, path="/")
        return response

    # --- routing (shared by plain requests and batch entries) -------------------------------
    def handle(self, method: str, rest: str, params: dict[str, str], body: Any, caller: Caller) -> Result:
        """One WSAPI call: ``rest`` is the path after ``/slm/webservice/v2.0/`` (plain requests and batch
        entries alike), routed by :attr:`api_router`."""
        try:
            endpoint, _ = self.api_router.match("/" + rest.strip("/"), "ANY")
        except (NotFound, MethodNotAllowed):
            endpoint = "other"
        parts = [p for p in rest.split("/") if p]
        if not parts:
            return 200, envelope("OperationResult", ["Not a valid request: name a type, such as /defect"])
        if endpoint == "authorize" or [p.lower() for p in parts] == ["security", "authorize"]:
            return 200, envelope("OperationResult", SecurityToken=self.sessions.token(caller))
        if endpoint == "batch" or parts[0].lower() == "batch":
            if method != "POST":
                return 405, envelope("OperationResult", ["Use POST for /batch"])
            return self.batch(params, body, caller)
        td = type_for(parts[0].removesuffix(".js"))
        if td is None:
            return 404, envelope("OperationResult", [f"Not found: {parts[0]} is not a type this server knows"])
        if len(parts) == 1:
            if method != "GET":
                return 405, envelope("OperationResult", [f"{method} is not allowed on /{parts[0]}"])
            if td.element in ("User", "Subscription") and not params.get("query"):
                me = caller.user if td.element == "User" else next(iter(self.store.by_type["Subscription"].values()))
                return 200, self.renderer().read(me, Fetch(params.get("fetch"), default_all=True))
            return self.query(td, params, caller)
        if len(parts) == 2 and parts[1].lower() == "create":
            if method not in ("PUT", "POST"):
                return 405, envelope("CreateResult", [f"{method} is not allowed on /{parts[0]}/create"])
            return self.create(td, params, body, caller)
        oid = ref_oid(parts[1])
        obj = self.store.get(oid, td.element if not td.abstract else "Artifact")
        kind = {"GET": "OperationResult", "DELETE": "OperationResult"}.get(method, "OperationResult")
        if obj is None or not self.store.visible(caller.user, obj):
            return 200, envelope(kind, ["Cannot find object to read" if method == "GET"
                                        else f"Cannot find object to {'delete' if method == 'DELETE' else 'update'}"])
        if len(parts) == 3:
            return self.collection(td, obj, parts[2], params, caller)
        if method == "GET":
            return 200, self.renderer().read(obj, Fetch(params.get("fetch"), default_all=True))
        if method in ("POST", "PUT"):
            return self.update(td, obj, params, body, caller)
        if method == "DELETE":
            return self.delete(obj, params, caller)
        return 405, envelope("OperationResult", [f"{method} is not allowed here"])

    # --- scoping ------------------------------------------------------------------------------
    def scope(self, params: dict[str, str], caller: Caller) -> tuple[int | None, set[int] | None, list[str]]:
        store = self.store
        profile = store.get(caller.user.get("UserProfile"))
        ws_oid: int | None = profile.get("DefaultWorkspace") if profile else None
        errors: list[str] = []
        ws_param = params.get("workspace", "")
        if ws_param and ws_param != "null":
            ws = store.get(ref_oid(ws_param), "Workspace")
            if ws is None or not store.visible(caller.user, ws):
                errors.append(f"Could not read: Workspace {ws_param} does not exist or is not accessible to you")
                return None, None, errors
            ws_oid = ws["ObjectID"]
        proj_param = params.get("project", "")
        if not proj_param or proj_param == "null":
            return ws_oid, None, errors
        project = store.get(ref_oid(proj_param), "Project")
        if project is None or not store.visible(caller.user, project):
            errors.append(f"Could not read: Project {proj_param} does not exist or is not accessible to you")
            return ws_oid, None, errors
        if not ws_param:
            ws_oid = project["Workspace"]
        scope = {project["ObjectID"]}
        if params.get("projectScopeDown", "true").lower() != "false":
            todo = [project["ObjectID"]]
            while todo:
                for child in store.inverse[("Project", "Parent")].get(todo.pop(), ()):
                    if child not in scope:
                        scope.add(child)
                        todo.append(child)
        if params.get("projectScopeUp", "false").lower() == "true":
            parent = project.get("Parent")
            while parent is not None and parent not in scope:
                scope.add(parent)
                parent = store.objects[parent].get("Parent")
        return ws_oid, scope, errors

    def candidates(self, td: TypeDef, ws: int | None, projects: set[int] | None, user: Obj) -> list[Obj]:
        types = ARTIFACT_TYPES if td.abstract else (td.element,)
        out = []
        for type_name in types:
            for obj in self.store.by_type[type_name].values():
                if td.workspace_scoped and obj.get("Workspace") != ws:
                    continue
                if projects is not None and td.project_scoped and obj.get("Project") not in projects:
                    continue
                if self.store.visible(user, obj):
                    out.append(obj)
        return out

    # --- reads ----------------------------------------------------------------------------------
    def query(self, td: TypeDef, params: dict[str, str], caller: Caller) -> Result:
        ws, projects, errors = self.scope(params, caller)
        if errors:
            return 200, self.query_result([], 1, 20, errors)
        return self.page(td, self.candidates(td, ws, projects, caller.user), params)

    def collection(self, td: TypeDef, obj: Obj, name: str, params: dict[str, str], caller: Caller) -> Result:
        attr = td.attr(name)
        if attr is None or attr.kind != "COLLECTION" or attr.hidden:
            return 200, envelope("OperationResult", [f"Not found: {td.element} has no collection {name}"])
        members = [m for m in (self.store.get(oid) for oid in self.store.collection(obj, attr))
                   if m is not None and self.store.visible(caller.user, m)]
        target = type_for(attr.target)
        assert target is not None
        return self.page(target, members, params)

    def page(self, td: TypeDef, items: list[Obj], params: dict[str, str]) -> Result:
        start, size, warnings = paging(params)
        try:
            selected = self.queries.select(td, items, params.get("query"), params.get("order"))
        except QueryError as exc:
            return 200, self.query_result([], start, size, [f"Could not parse: {exc}"], warnings)
        renderer = self.renderer()
        fetch = Fetch(params.get("fetch"))
        results = [renderer.render(o, fetch) for o in selected[start - 1:start - 1 + size]]
        return 200, self.query_result(results, start, size, [], warnings, total=len(selected))

    @staticmethod
    def query_result(results: list[dict[str, Any]], start: int, size: int, errors: list[str],
                     warnings: list[str] | None = None, total: int = 0) -> dict[str, Any]:
        return envelope("QueryResult", errors, warnings, TotalResultCount=total, StartIndex=start,
                        PageSize=size, Results=results)

    # --- writes -------------------------------------------------------------------------------
    def _fields(self, td: TypeDef, body: Any) -> dict[str, Any] | None:
        if not isinstance(body, dict) or len(body) != 1:
            return None
        key, value = next(iter(body.items()))
        if type_for(key) is not td or not isinstance(value, dict):
            return None
        return value

    def _body_error(self, td: TypeDef) -> str:
        return f'Could not read: the request body must be a JSON object like {{"{td.element}": {{"Name": "…"}}}}'

    def create(self, td: TypeDef, params: dict[str, str], body: Any, caller: Caller) -> Result:
        if not self.sessions.key_ok(caller, params.get("key")):
            return 200, envelope("CreateResult", [INVALID_KEY])
        if caller.read_only:
            return 200, envelope("CreateResult", [READ_ONLY_KEY])
        fields = self._fields(td, body)
        if fields is None:
            return 200, envelope("CreateResult", [self._body_error(td)])
        ws, _, errors = self.scope(params, caller)
        if errors:
            return 200, envelope("CreateResult", errors)
        default_project = None
        if params.get("project") and params["project"] != "null":
            default_project = ref_oid(params["project"])
        else:
            profile = self.store.get(caller.user.get("UserProfile"))
            candidate = profile.get("DefaultProject") if profile else None
            proj = self.store.get(candidate, "Project")
            default_project = candidate if proj is not None and proj["Workspace"] == ws else None
        obj, result = self.store.create(td, fields, caller.user, workspace=ws, project=default_project)
        if obj is None:
            return 200, envelope("CreateResult", result.errors, result.warnings)
        rendered = self.renderer().render(obj, Fetch(params.get("fetch"), default_all=True))
        return 200, envelope("CreateResult", [], result.warnings, Object=rendered)

    def update(self, td: TypeDef, obj: Obj, params: dict[str, str], body: Any, caller: Caller) -> Result:
        if not self.sessions.key_ok(caller, params.get("key")):
            return 200, envelope("OperationResult", [INVALID_KEY])
        if caller.read_only:
            return 200, envelope("OperationResult", [READ_ONLY_KEY])
        fields = self._fields(self.store.typedef(obj), body)
        if fields is None:
            return 200, envelope("OperationResult", [self._body_error(self.store.typedef(obj))])
        result = self.store.update(obj, fields, caller.user)
        if result.errors:
            return 200, envelope("OperationResult", result.errors, result.warnings)
        rendered = self.renderer().render(obj, Fetch(params.get("fetch"), default_all=True))
        return 200, envelope("OperationResult", [], result.warnings, Object=rendered)

    def delete(self, obj: Obj, params: dict[str, str], caller: Caller) -> Result:
        if not self.sessions.key_ok(caller, params.get("key")):
            return 200, envelope("OperationResult", [INVALID_KEY])
        if caller.read_only:
            return 200, envelope("OperationResult", [READ_ONLY_KEY])
        if obj["_type"] not in ARTIFACT_TYPES or self.store.role(caller.user, obj.get("Project")) not in (
                "Editor", "Project Admin"):
            return 200, envelope("OperationResult", [f"Not authorized to perform action: Delete {obj['_type']}"])
        self.store.delete(obj)
        return 200, envelope("OperationResult")

    def batch(self, params: dict[str, str], body: Any, caller: Caller) -> Result:
        entries = body.get("Batch") if isinstance(body, dict) else None
        if not isinstance(entries, list):
            return 200, envelope("BatchResult", ['Could not read: the body must be {"Batch": [{"Entry": {...}}]}'])
        results: list[dict[str, Any]] = []
        for item in entries:
            entry = item.get("Entry") if isinstance(item, dict) else None
            if not isinstance(entry, dict) or not isinstance(entry.get("Path"), str):
                results.append({**VERSION, "Errors": ["Could not read: each entry needs a Path and a Method"],
                                "Warnings": []})
                continue
            path, _, query = entry["Path"].partition("?")
            entry_params = dict(params)
            for pair in filter(None, query.split("&")):
                key, _, value = pair.partition("=")
                from urllib.parse import unquote_plus

                entry_params[unquote_plus(key)] = unquote_plus(value)
            rest = path.strip("/").removeprefix("slm/webservice/v2.0").strip("/")
            if rest.split("/")[0].lower() == "batch":
                results.append({**VERSION, "Errors": ["A batch cannot contain another batch"], "Warnings": []})
                continue
            method = str(entry.get("Method") or "GET").upper()
            if method in ("POST", "PUT", "DELETE"):
                self.bulk_items(1)  # the latency model's per-item server cost
            _, payload = self.handle(method, rest, entry_params, entry.get("Body"), caller)
            results.append(next(iter(payload.values())))
        return 200, envelope("BatchResult", Results=results)

    # --- pyral's schema read --------------------------------------------------------------------
    def schema(self, values: dict[str, str], caller: Caller) -> Result:
        if "oid" not in values:
            return 404, envelope("OperationResult", ["Not found: use /slm/schema/v2.0/workspace/<ObjectID>"])
        ws = self.store.get(ref_oid(values["oid"]), "Workspace")
        if ws is None or not self.store.visible(caller.user, ws):
            return 200, self.query_result([], 1, 200, ["Could not read: workspace not found"])
        renderer = self.renderer()
        results = []
        tdefs = [t for t in self.store.by_type["TypeDefinition"].values() if t["Workspace"] == ws["ObjectID"]]
        for tdef in tdefs:
            parent = self.store.get(tdef.get("Parent"))
            attrs = []
            for adef in (self.store.get(o) for o in self.store.inverse[("AttributeDefinition", "TypeDefinition")]
                         .get(tdef["ObjectID"], ())):
                assert adef is not None
                has_values = bool(self.store.inverse[("AllowedAttributeValue", "AttributeDefinition")]
                                  .get(adef["ObjectID"]))
                attrs.append({
                    "_ref": renderer.ref(adef), "_refObjectName": adef["Name"], "_type": "AttributeDefinition",
                    "ObjectID": adef["ObjectID"], "ElementName": adef["ElementName"], "Name": adef["Name"],
                    "AttributeType": adef["AttributeType"], "Custom": False, "Required": adef["Required"],
                    "ReadOnly": adef["ReadOnly"], "Filterable": True, "Hidden": False,
                    "SchemaType": adef["AttributeType"].lower(), "Constrained": adef["Constrained"],
                    "AllowedValueType": {"_ref": f"{renderer.base}/allowedattributevalue"} if has_values else None,
                    "AllowedValues": ({"_ref": f"{renderer.base}/AttributeDefinition/{adef['ObjectID']}/AllowedValues"}
                                      if has_values else []),
                    "MaxLength": adef["MaxLength"], "MaxFractionalDigits": -1})
            results.append({
                "_ref": renderer.ref(tdef), "_refObjectName": tdef["Name"], "_type": "TypeDefinition",
                "ObjectID": tdef["ObjectID"], "ElementName": tdef["ElementName"], "Name": tdef["Name"],
                "DisplayName": tdef["DisplayName"], "TypePath": tdef["TypePath"], "IDPrefix": tdef["IDPrefix"],
                "Abstract": tdef["Abstract"], "Creatable": tdef["Creatable"], "Queryable": True,
                "ReadOnly": tdef["ReadOnly"], "Deletable": tdef["Creatable"], "Restorable": tdef["Creatable"],
                "Ordinal": -1, "RevisionHistory": None, "Attributes": attrs,
                "Parent": {"_ref": renderer.ref(parent), "_refObjectName": parent["ElementName"]} if parent else None})
        return 200, self.query_result(results, 1, len(results), [], total=len(results))
