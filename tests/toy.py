"""A small test-only system ("toy") with its own loopback sandbox, for foundation tests.

It has one field of each kind the forms must handle, and Test Connection steps over real HTTP.
"""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from almdesk.base.fields import Field, FieldKind
from almdesk.base.records import Step
from almdesk.base.settings import ConnectionSettings, ConnectorSettings
from almdesk.errors import AuthError, ConfigError
from almdesk.net.bodies import json_body
from almdesk.net.session import HttpFactory, send
from almdesk.sandbox.base import SandboxApp, json_response
from almdesk.systems.base import Declared

TOKEN = "toy-token-0123456789"


class ToySandbox(SandboxApp):
    system = "toy"

    def dispatch(self, request: Request) -> Response:
        if request.path == "/api/version":
            return json_response({"version": "1.0"})
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return json_response({"message": "Bad credentials"}, 401)
        if request.path == "/api/projects/DEMO":
            return json_response({"key": "DEMO"})
        return json_response({"message": "not found"}, 404)

    def describe(self, base_url: str) -> dict[str, Any]:
        return {"system": "toy", "url": base_url, "params": {"url": base_url, "user": "admin"},
                "secrets": {"token": TOKEN}, "connection_params": {"toy_project": "DEMO"}}


class ToySystem(Declared):
    name = "toy"
    label = "Toy ALM"
    item_noun = "item"
    connector_fields: tuple[Field, ...] = (
        Field("url", "Server URL", FieldKind.URL, required=True, section="General",
              help="The address of the toy server, like https://toy.example.com."),
        Field("user", "User", FieldKind.TEXT, required=True, section="General"),
        Field("token", "API token", FieldKind.SECRET, required=True, section="General"),
        Field("page_size", "Page size", FieldKind.INT, default=100, minimum=1, maximum=1000, section="General"),
        Field("flavour", "Flavour", FieldKind.CHOICE, default="plain", choices=("plain", "fancy"),
              section="General"),
    )
    connection_fields: tuple[Field, ...] = (Field("toy_project", "Project key", FieldKind.TEXT, required=True),)

    def check_connector(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("user") == "root":
            raise ConfigError("User cannot be root.", "Use a service account.", field="user")
        return params

    def base_url(self, connector: ConnectorSettings) -> str:
        return str(connector.params["url"])

    def test_steps(self, connector: ConnectorSettings, connection: ConnectionSettings | None,
                   http: HttpFactory) -> list[Step]:
        session = http.session()
        url = self.base_url(connector)

        def version() -> str:
            r = send(session, "GET", f"{url}/api/version", what="the toy server")
            return f"version {json_body(r)['version']}"

        def auth() -> str:
            r = send(session, "GET", f"{url}/api/projects/DEMO",
                     headers={"Authorization": f"Bearer {connector.secret('token')}"})
            if r.status_code == 401:
                raise AuthError("The toy server refused the token.", "Check the API token.", field="token")
            return "token accepted"

        return [Step("version", "Server version", version), Step("auth", "Authenticate", auth)]

    def create_defect(self, *a: Any) -> Any:
        raise NotImplementedError

    def gate(self, *a: Any) -> Any:
        raise NotImplementedError

    def sync_adapter(self, *a: Any) -> Any:
        raise NotImplementedError
