"""A test-only system ("tracer") whose Test Connection sends a secret in every way the real systems do.

Basic auth (Authorization), an Octane-style JSON sign-in with ``client_secret`` answered by a
``Set-Cookie``, a Rally-style ``ZSESSIONID`` header, an OAuth-style ``access_token`` query
parameter and form body, a token in a JSON response, and a server error that echoes the secret.
``/issue`` hands out tokens made at run time (almdesk cannot know their values) under the key
names servers use for them, nested and in a header: only key-name redaction can hide those.
The debug trace of such a job must hold none of them.
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

from werkzeug.wrappers import Request, Response

from almdesk.base.fields import Field, FieldKind
from almdesk.base.records import Step
from almdesk.base.settings import ConnectionSettings, ConnectorSettings
from almdesk.errors import AuthError
from almdesk.net.bodies import json_body
from almdesk.net.session import HttpFactory, send
from almdesk.sandbox.base import SandboxApp, json_response
from almdesk.systems.base import Declared

SECRET = "tr4cer-Secret-q9Zx!%/+=="
USER = "trace-user@example.com"
SESSION = "sess-7be1c0ffee-tracer"


# Key names under which servers hand out credentials, as /issue sends them.
ISSUED_KEYS = ("access_token", "refresh_token", "client_secret", "SecurityToken", "password", "apiKey",
               "x-api-key", "sessionToken", "my_client_secret_v2", "PrivateToken", "oauthCredential")


class TracerSandbox(SandboxApp):
    system = "tracer"

    def __init__(self, seed: int = 0) -> None:
        super().__init__(seed)
        self.issued: list[str] = []  # every token /issue made, for the tests to look for

    def issue(self) -> str:
        token = secrets.token_urlsafe(18)
        self.issued.append(token)
        return token

    def dispatch(self, request: Request) -> Response:
        path = request.path
        if path == "/issue":
            body = {"OperationResult": {key: self.issue() for key in ISSUED_KEYS},
                    "items": [{"name": "n", "Password": self.issue()}], "plain": "visible"}
            resp = json_response(body)
            resp.headers["X-Issued-Token"] = self.issue()
            return resp
        if path == "/version":
            return json_response({"version": "2.5"})
        if path == "/basic":
            expected = "Basic " + base64.b64encode(f"{USER}:{SECRET}".encode()).decode()
            ok = request.headers.get("Authorization") == expected
            return json_response({"ok": ok}, 200 if ok else 401)
        if path == "/authentication/sign_in":
            body = request.get_json(silent=True) or {}
            if body.get("client_secret") != SECRET:
                return json_response({"message": f"bad secret {body.get('client_secret')}"}, 401)
            resp = json_response({"signed_in": True, "token": SECRET})
            resp.set_cookie("LWSSO_COOKIE_KEY", SESSION)
            return resp
        if path == "/zsession":
            ok = request.headers.get("ZSESSIONID") == SECRET and SESSION in request.headers.get("Cookie", "")
            return json_response({"ok": ok, "echo": request.headers.get("ZSESSIONID")}, 200 if ok else 401)
        if path == "/oauth":
            form_ok = request.form.get("client_secret") == SECRET
            return json_response({"access_token": SECRET, "form_ok": form_ok, "query": request.args.get("access_token")})
        if path == "/echo-error":
            return Response(f"<html>Internal error: key {request.args.get('k')} rejected</html>", status=400,
                            content_type="text/html")
        return json_response({"message": "not found"}, 404)

    def describe(self, base_url: str) -> dict[str, Any]:
        return {"system": "tracer", "url": base_url, "params": {"url": base_url, "user": USER},
                "secrets": {"secret": SECRET}, "connection_params": {"space": "S1"}}


class TracerSystem(Declared):
    name = "tracer"
    label = "Tracer"
    secret_names = ("zsessionid",)  # like Rally, it declares its session header
    item_noun = "item"
    connector_fields = (
        Field("url", "Server URL", FieldKind.URL, required=True),
        Field("user", "User", FieldKind.TEXT, required=True),
        Field("secret", "Secret", FieldKind.SECRET, required=True),
    )
    connection_fields = (Field("space", "Space", FieldKind.TEXT, required=True),)

    def check_connector(self, params: dict[str, Any]) -> dict[str, Any]:
        return params

    def base_url(self, connector: ConnectorSettings) -> str:
        return str(connector.params["url"])

    def test_steps(self, connector: ConnectorSettings, connection: ConnectionSettings | None,
                   http: HttpFactory) -> list[Step]:
        session = http.session(retries=0)
        url = self.base_url(connector)
        user, secret = str(connector.params["user"]), connector.secret("secret")

        def check(resp: Any, what: str) -> str:
            if resp.status_code != 200:
                raise AuthError(f"{what} refused", "Check the secret.", field="secret")
            return what + " ok"

        def basic() -> str:
            return check(send(session, "GET", f"{url}/basic", auth=(user, secret)), "basic")

        def sign_in() -> str:
            resp = send(session, "POST", f"{url}/authentication/sign_in",
                        json={"client_id": user, "client_secret": secret})
            json_body(resp)
            return check(resp, "sign in")

        def zsession() -> str:
            return check(send(session, "GET", f"{url}/zsession", headers={"ZSESSIONID": secret}), "zsession")

        def oauth() -> str:
            resp = send(session, "POST", f"{url}/oauth", params={"access_token": secret},
                        data={"grant_type": "client_credentials", "client_secret": secret})
            return check(resp, "oauth")

        def echo() -> str:
            send(session, "GET", f"{url}/echo-error", params={"k": secret})
            return "echo done"

        def issued() -> str:
            body = json_body(send(session, "GET", f"{url}/issue"))
            return f"issued {len(body['OperationResult'])} tokens"

        return [Step("basic", "Basic auth", basic), Step("sign_in", "Sign in", sign_in),
                Step("zsession", "API key header", zsession), Step("oauth", "OAuth", oauth),
                Step("echo", "Error echo", echo), Step("issued", "Tokens issued at run time", issued)]

    def create_defect(self, *a: Any) -> Any:
        raise NotImplementedError

    def gate(self, *a: Any) -> Any:
        raise NotImplementedError

    def sync_adapter(self, *a: Any) -> Any:
        raise NotImplementedError
