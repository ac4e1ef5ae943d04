"""The Octane sandbox server: Octane's REST routes, LWSSO sessions with renewal and expiry, roles.

Routes (as clients use them): ``/admin/server/version`` (no auth), ``/authentication/sign_in`` and
``sign_out``, ``/api/shared_spaces/{ss}/workspaces[/{ws}]``, per workspace the collections of
:data:`~almdesk.sandbox.octane.entities.COLLECTIONS` (GET/POST/PUT, single and bulk, DELETE by id),
the CI connectivity check and the browser's ``/ui/entity-navigation`` link.
"""

from __future__ import annotations

import inspect
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Rule
from werkzeug.wrappers import Request, Response

from almdesk.sandbox.base import Faults, MediaPolicy, Router, SandboxApp, json_response, rule
from almdesk.sandbox.octane import data as seed
from almdesk.sandbox.octane import entities as ent
from almdesk.sandbox.octane import metadata
from almdesk.sandbox.octane.entities import OctaneFault

COOKIE = "LWSSO_COOKIE_KEY"
IDLE = "VALIDATION_TOKEN_EXPIRED_IDLE_TIME_OUT"
GLOBAL = "VALIDATION_TOKEN_EXPIRED_GLOBAL_TIME_OUT"
FAULT_EXEMPT = ("/authentication/", "/admin/server/version", "/ui")
ANY = "GET|POST|PUT|DELETE|PATCH"


def _api_path(path: str) -> bool:
    return path.startswith(("/api/", "/internal-api/", "/authentication/"))


@dataclass
class Session:
    principal: seed.Principal
    token: str
    created: float
    last_seen: float
    issued: float
    expired: str | None = None
    grace: dict[str, float] = field(default_factory=dict)  # older tokens still accepted until


class OctaneSandbox(SandboxApp):
    """ALM Octane simulator. ``sign_ins`` counts successful sign-ins (for the re-auth tests).

    ``clock`` (monotonic seconds) times the sessions' idle/global expiry and cookie renewal; tests pass
    one they advance instead of waiting for a session to expire.
    """

    system = "octane"
    media = MediaPolicy(applies=_api_path)  # Octane documents 415 and 406 for other media types

    def __init__(self, seed_value: int = 0, *, idle_timeout: float = 3 * 3600.0, global_timeout: float = 24 * 3600.0,
                 renew_after: float = 600.0, renew_grace: float = 60.0, defects: int = 320, stories: int = 60,
                 strict_rate_limits: bool = False, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(seed_value)
        self.clock = clock
        self.site = seed.build(seed_value, defects=defects, stories=stories)
        self.idle_timeout = idle_timeout
        self.global_timeout = global_timeout
        self.renew_after = renew_after
        self.renew_grace = renew_grace
        self.sessions: dict[str, Session] = {}
        self.sign_ins = 0
        self.sign_outs = 0
        self.failed_sign_ins = 0
        self.strict_rate_limits = strict_rate_limits  # Octane documents no rate limits: accepted, no effect
        self._session_lock = threading.Lock()
        self.router = Router(self._rules())

    # fault injection: never fault sign-in/out or the version probe (their failures are tested directly)
    @property
    def faults(self) -> Faults | None:
        return self._faults

    @faults.setter
    def faults(self, value: Faults | None) -> None:
        if value is not None and not value.exempt:
            value.exempt = FAULT_EXEMPT
        self._faults = value

    # --- SandboxApp ---------------------------------------------------------------------------
    def describe(self, base_url: str) -> dict[str, Any]:
        key, secret = seed.API_KEY
        return {
            "system": "octane",
            "url": base_url,
            "params": {"location": f"{base_url}/ui/?p={seed.SHARED_SPACE}/{seed.DEFAULT_WORKSPACE}",
                       "client_id": key, "user": "alice@example.com", "shared_space": seed.SHARED_SPACE,
                       "workspace": seed.DEFAULT_WORKSPACE},
            "secrets": {"client_secret": secret},
            "connection_params": {"workspace": seed.DEFAULT_WORKSPACE, "item_type": "defect", "parent": "",
                                  "new_phase": "", "done_phases": "Closed,Rejected,Duplicate", "close_phase": "",
                                  "reopen_phase": ""},
        }

    def error(self, request: Request, status: int, message: str) -> Response:
        code = {415: "platform.unsupported_media_type", 406: "platform.not_acceptable"}.get(status,
                                                                                           "platform.general_error")
        return json_response(ent.error_body(code, message, status=status), status)

    def expire_sessions(self) -> None:
        with self._session_lock:
            for session in self.sessions.values():
                session.expired = session.expired or GLOBAL

    def dispatch(self, request: Request) -> Response:
        try:
            with self.lock:
                return self._route(request)
        except OctaneFault as fault:
            return json_response(fault.body, fault.status)

    # --- routing ------------------------------------------------------------------------------
    def _rules(self) -> list[Rule]:
        ss = "/api/shared_spaces/<ss>"
        ws = f"{ss}/workspaces/<ws>"
        return [
            rule("/", "root"),
            rule("/admin/server/version", "version"),
            rule("/authentication/sign_in", "sign_in", "POST"),
            rule("/authentication/sign_out", "sign_out", "POST"),
            rule("/ui", "ui", ANY), rule("/ui/<path:rest>", "ui", ANY),
            rule("/api/shared_spaces", "spaces", ANY),
            rule(ss, "space", ANY),
            rule(f"{ss}/<path:rest>", "space_other", ANY),
            rule(f"{ss}/workspaces", "workspaces", ANY),
            rule(ws, "workspace", ANY),
            rule(f"{ws}/metadata/entities", "metadata_entities"),
            rule(f"{ws}/metadata/fields", "metadata_fields"),
            rule(f"{ws}/<collection>", "collection", ANY),
            rule(f"{ws}/<collection>/<ident>", "collection", ANY),
            rule(f"{ws}/<path:rest>", "unknown_collection", ANY),
            rule("/internal-api/shared_spaces/<ss>/<path:rest>", "internal", ANY),
        ]

    def _route(self, request: Request) -> Response:
        path = request.path.rstrip("/") or "/"
        try:
            endpoint, values = self.router.match(path, request.method)
        except (NotFound, MethodNotAllowed):
            raise OctaneFault(404, "platform.resource_not_found", f"No resource at {request.path}.") from None
        if endpoint == "root":  # like Octane: the root sends browsers to the web UI
            return Response(status=302, headers={"Location": f"{self.base_url}/ui/"})
        if endpoint == "version":
            return json_response(self.site.version)
        if endpoint == "sign_in":
            return self._sign_in(request)
        if endpoint == "sign_out":
            return self._sign_out(request)
        if endpoint == "ui":
            return self._ui(request, ["ui", *[p for p in values.get("rest", "").split("/") if p]])
        session, renewed = self._authenticate(request)
        response = self._api(request, endpoint, values, session)
        if renewed:
            self._set_cookies(response, request, renewed, session.principal.name)
        return response

    def _ui(self, request: Request, parts: list[str]) -> Response:
        if parts[1:] == ["entity-navigation"]:
            p = request.args.get("p", "")
            kind = request.args.get("entityType", "")
            ident = request.args.get("id", "")
            target = f"{self.base_url or ''}/ui/?p={p}#/entity-navigation?entityType={kind}&id={ident}"
            return Response(status=302, headers={"Location": target})
        page = ("<!doctype html><html><head><title>ALM Octane (almdesk sandbox)</title></head>"
                "<body><h1>ALM Octane sandbox</h1><p>This is almdesk's loopback simulator.</p></body></html>")
        return Response(page, content_type="text/html; charset=utf-8")

    # --- authentication -----------------------------------------------------------------------
    def _sign_in(self, request: Request) -> Response:
        try:
            body = json.loads(request.get_data(as_text=True) or "null")
        except ValueError:
            raise OctaneFault(400, "platform.invalid_json", "The request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise OctaneFault(400, "platform.invalid_json", "Send {\"client_id\", \"client_secret\"} or "
                                                            "{\"user\", \"password\"}.")
        name = body.get("client_id") if "client_id" in body else body.get("user")
        secret = body.get("client_secret") if "client_id" in body else body.get("password")
        principal = self.site.principals.get(str(name or ""))
        if principal is None or not secrets.compare_digest(str(secret or ""), principal.secret):
            with self._session_lock:
                self.failed_sign_ins += 1
            return json_response(ent.error_body("AUTHENTICATION_FAILED", "Authentication failed.", status=401), 401)
        now = self.clock()
        token = secrets.token_urlsafe(24)
        with self._session_lock:
            self.sessions[token] = Session(principal, token, now, now, now)
            self.sign_ins += 1
        response = Response(status=200)
        self._set_cookies(response, request, token, principal.name)
        return response

    def _sign_out(self, request: Request) -> Response:
        token = request.cookies.get(COOKIE, "")
        with self._session_lock:
            session = self.sessions.get(token)
            if session is not None:
                for t in [t for t, s in self.sessions.items() if s is session]:
                    del self.sessions[t]
                self.sign_outs += 1
        response = Response(status=200)
        response.delete_cookie(COOKIE, path="/")
        return response

    def _set_cookies(self, response: Response, request: Request, token: str, user: str) -> None:
        secure = request.scheme == "https"
        response.set_cookie(COOKIE, token, path="/", httponly=True, secure=secure, max_age=86400)
        response.set_cookie("OCTANE_USER", user, path="/", secure=secure)

    def _authenticate(self, request: Request) -> tuple[Session, str | None]:
        token = request.cookies.get(COOKIE)
        if not token:
            raise OctaneFault(401, "platform.not_authenticated", "Authentication required: sign in first.")
        now = self.clock()
        with self._session_lock:
            session = self.sessions.get(token)
            if session is None:
                raise OctaneFault(401, "platform.not_authenticated", "The session is unknown or signed out.")
            if session.expired is None:
                if now - session.created > self.global_timeout:
                    session.expired = GLOBAL
                elif now - session.last_seen > self.idle_timeout:
                    session.expired = IDLE
            if session.expired is None and token != session.token and session.grace.get(token, 0) < now:
                raise OctaneFault(401, IDLE, "This session cookie was renewed and the old value is no longer valid.")
            if session.expired:
                what = "idle" if session.expired == IDLE else "global"
                raise OctaneFault(401, session.expired, f"The session expired ({what} time-out). Sign in again.")
            session.last_seen = now
            renewed = None
            if now - session.issued > self.renew_after:
                renewed = secrets.token_urlsafe(24)
                session.grace[session.token] = now + self.renew_grace
                session.token = renewed
                session.issued = now
                self.sessions[renewed] = session
            return session, renewed

    # --- API ----------------------------------------------------------------------------------
    def _api(self, request: Request, endpoint: str, values: dict[str, str], session: Session) -> Response:
        principal = session.principal
        if endpoint == "spaces":
            spaces = [{"type": "shared_space", "id": sid, "name": name}
                      for sid, name in self.site.shared_spaces.items() if sid == principal.shared_space]
            return json_response({"total_count": len(spaces), "data": spaces})
        ss = values["ss"]
        if ss not in self.site.shared_spaces:
            raise OctaneFault(404, "platform.shared_space_not_found", f"Shared space {ss} does not exist.")
        if principal.shared_space != ss:
            raise OctaneFault(403, "platform.forbidden", f"You are not authorized to access shared space {ss}.")
        if endpoint == "internal":
            return self._connectivity(values["rest"], principal)
        if endpoint == "space":
            return json_response({"type": "shared_space", "id": ss, "name": self.site.shared_spaces[ss]})
        if endpoint == "space_other":
            raise OctaneFault(404, "platform.unknown_entity_type", f"Unknown resource '{values['rest'].split('/')[0]}'.")
        if endpoint == "workspaces":
            visible = [self._ws_entity(w) for w in self.site.workspaces_of(ss) if principal.can_read(w.id)]
            ctx = ent.context(self.site.workspaces[seed.DEFAULT_WORKSPACE], None)
            known = {"id", "type", "name", "description", "activity_level"}
            return json_response(ent.list_entities(None, visible, request.args, kind="workspace", known=known,
                                                   ctx=ctx))
        ws = self.site.workspaces.get(values["ws"])
        if ws is None or ws.shared_space != ss:
            raise OctaneFault(404, "platform.workspace_not_found",
                              f"Workspace {values['ws']} does not exist in shared space {ss}.")
        if not principal.can_read(ws.id):
            raise OctaneFault(403, "platform.forbidden",
                              f"You are not assigned any role in workspace {ws.id}; access is denied.")
        if endpoint == "workspace":
            return json_response(self._ws_entity(ws))
        if endpoint == "metadata_entities":
            return json_response(metadata.entities(request.args))
        if endpoint == "metadata_fields":
            return json_response(metadata.fields(request.args))
        if endpoint == "unknown_collection":
            raise OctaneFault(404, "platform.unknown_entity_type",
                              f"Unknown entity collection '{values['rest']}' in workspace {ws.id}.")
        rest = [values["collection"], *([values["ident"]] if "ident" in values else [])]
        return self._collection(request, rest, ws, principal)

    def _ws_entity(self, ws: seed.Workspace) -> dict[str, Any]:
        return {"type": "workspace", "id": ws.id, "name": ws.name, "description": "", "activity_level": 0}

    def _connectivity(self, rest: str, principal: seed.Principal) -> Response:
        if rest.strip("/") != "analytics/ci/servers/connectivity/status":
            raise OctaneFault(404, "platform.resource_not_found", "No such internal resource.")
        has_role = any("ci_cd_integration" in roles for roles in principal.roles.values())
        if not has_role:
            raise OctaneFault(403, "platform.forbidden", "The API key is not assigned the CI/CD Integration role.")
        return json_response({"octaneVersion": self.site.version["version"], "supportedSdkVersion": "2.0"})

    def _collection(self, request: Request, rest: list[str], ws: seed.Workspace,
                    principal: seed.Principal) -> Response:
        name = rest[0]
        if name not in ent.COLLECTIONS or len(rest) > 2:
            raise OctaneFault(404, "platform.unknown_entity_type",
                              f"Unknown entity collection '{'/'.join(rest)}' in workspace {ws.id}.")
        kind, subtype = ent.COLLECTIONS[name]
        label = subtype or kind
        method = request.method
        ident = rest[1] if len(rest) == 2 else None
        ctx = ent.context(ws, principal.name if principal.kind == "user" else None)
        known = ent.known_fields(ws, kind)
        collection_type = None if kind != "work_item" or subtype is None else (
            "work_item_root" if subtype == "work_item_root" else subtype)

        def members() -> list[dict[str, Any]]:
            return [e for e in ws.of_type(kind).values() if subtype is None or e.get("subtype") == subtype]

        if method == "GET":
            if ident is None:
                return json_response(ent.list_entities(ws, members(), request.args, kind=label, known=known,
                                                       ctx=ctx, collection_type=collection_type))
            entity = next((e for e in members() if e["id"] == ident), None)
            if entity is None:
                raise OctaneFault(404, "platform.entity_not_found", f"The {label} with id '{ident}' was not found.")
            fields = ent.parse_fields(request.args.get("fields"), known, label)
            return json_response(ent.render(ws, entity, fields, collection_type))
        if method not in ("POST", "PUT", "DELETE"):
            raise OctaneFault(405, "platform.method_not_allowed", f"{method} is not supported here.")
        if kind == "user_tag" and method == "POST" and ident is None:
            return self._create_tags(request, ws, principal)
        if kind != "work_item" or subtype == "work_item_root":
            raise OctaneFault(405, "platform.operation_not_supported", f"Cannot modify {name} through the API here.")
        if not principal.can_create(ws.id):
            raise OctaneFault(403, "platform.forbidden",
                              f"You do not have permission to modify {label} in workspace {ws.id}: the API key's "
                              f"role does not allow it.")
        if method == "DELETE":
            if ident is None or ident not in {e["id"] for e in members()}:
                raise OctaneFault(404, "platform.entity_not_found", f"The {label} with id '{ident}' was not found.")
            del ws.of_type(kind)[ident]
            return json_response({"total_count": 1, "data": [{"type": collection_type or kind, "id": ident}]})
        body = self._body(request)
        fields = ent.parse_fields(request.args.get("fields"), known, label)

        def show(item: dict[str, Any]) -> dict[str, Any]:
            return ent.render(ws, item, fields or ["name"], collection_type)

        if method == "PUT" and ident is not None:
            try:
                item = ent.update_work_item(ws, subtype, ident, body)
            except ent.ItemError as err:
                raise OctaneFault(err.status, err.code, err.description) from None
            return json_response(show(item))
        if ident is not None:
            raise OctaneFault(405, "platform.method_not_allowed", "POST goes to the collection, not to an entity.")
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise OctaneFault(400, "platform.invalid_request_body", 'The body must be {"data": [ … ]}.')
        results: list[dict[str, Any] | ent.ItemError] = []
        author = self._user_id(ws, principal)
        self.bulk_items(len(body["data"]))  # the latency model's per-item server cost
        for values in body["data"]:
            try:
                if method == "POST":
                    results.append(ent.create_work_item(ws, subtype or "work_item", values, author))
                else:
                    ident_in = values.get("id") if isinstance(values, dict) else None
                    if ident_in is None:
                        raise ent.ItemError("platform.missing_required_field", "Each entry needs its 'id'.")
                    results.append(ent.update_work_item(ws, subtype, str(ident_in), values))
            except ent.ItemError as err:
                results.append(err)
        status, out = ent.bulk(results, show, 201 if method == "POST" else 200)
        return json_response(out, status)

    def _create_tags(self, request: Request, ws: seed.Workspace, principal: seed.Principal) -> Response:
        """POST user_tags ``{"data": [{"name": …}]}``: user tags, for marking work items."""
        if not principal.can_create(ws.id):
            raise OctaneFault(403, "platform.forbidden", f"You do not have permission to create user tags in "
                                                          f"workspace {ws.id}.")
        body = self._body(request)
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise OctaneFault(400, "platform.invalid_request_body", 'The body must be {"data": [ … ]}.')
        results: list[dict[str, Any] | ent.ItemError] = []
        for values in body["data"]:
            try:
                results.append(ent.create_user_tag(ws, values))
            except ent.ItemError as err:
                results.append(err)
        status, out = ent.bulk(results, lambda t: ent.render(ws, t, ["name"]), 201)
        return json_response(out, status)

    def _user_id(self, ws: seed.Workspace, principal: seed.Principal) -> str | None:
        if principal.kind != "user":
            return None
        return next((u["id"] for u in ws.of_type("workspace_user").values() if u["name"] == principal.name), None)

    def _body(self, request: Request) -> Any:
        try:
            return json.loads(request.get_data(as_text=True) or "null")
        except ValueError:
            raise OctaneFault(400, "platform.invalid_json", "The request body is not valid JSON.") from None


def create(seed: int = 0, **options: Any) -> OctaneSandbox:
    """The sandbox app; options: idle_timeout, global_timeout, renew_after, renew_grace (seconds),
    defects, stories (per workspace), strict_rate_limits (accepted for the CLI; Octane has none), clock."""
    known = inspect.signature(OctaneSandbox.__init__).parameters
    return OctaneSandbox(seed, **{k: v for k, v in options.items() if k in known})
