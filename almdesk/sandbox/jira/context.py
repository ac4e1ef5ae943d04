"""One request as the Jira sandbox's handlers see it, and Jira's error bodies (ErrorCollection)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from werkzeug.wrappers import Response

from almdesk.sandbox.base import RequestContext, json_response
from almdesk.sandbox.jira.model import JiraData, User
from almdesk.sandbox.jira.render import Renderer


class ApiError(Exception):
    """Raised by handlers; becomes an ErrorCollection response."""

    def __init__(self, status: int, messages: list[str] | None = None, errors: dict[str, str] | None = None) -> None:
        super().__init__(status, messages, errors)
        self.status = status
        self.messages = messages or []
        self.errors = errors or {}

    def response(self, cloud: bool) -> Response:
        return error_response(self.status, self.messages, self.errors, cloud)


def error_body(messages: list[str], errors: dict[str, str], status: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"errorMessages": list(messages), "errors": dict(errors)}
    if status is not None:
        body["status"] = status
    return body


def error_response(status: int, messages: list[str] | None = None, errors: dict[str, str] | None = None,
                   cloud: bool = True) -> Response:
    return json_response(error_body(messages or [], errors or {}), status)


@dataclass
class Call(RequestContext):
    """The request, the REST version (2, 3 or latest), the signed-in user and the sandbox's data."""

    api: str
    base: str
    data: JiraData
    user: User | None
    params: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def cloud(self) -> bool:
        return self.data.mode == "cloud"

    @property
    def v3(self) -> bool:
        return self.api == "3"

    @property
    def render(self) -> Renderer:
        return Renderer(self.data, self.base, "2" if self.api == "latest" else self.api)

    def can(self, permission: str) -> bool:
        return self.user is not None and permission in self.user.permissions

    def body(self) -> Any:
        try:
            return self.raw_json()
        except ValueError:
            raise ApiError(400, ["Unexpected character: was expecting a JSON value (the request body is not "
                                 "valid JSON)."]) from None

    def object_body(self) -> dict[str, Any]:
        body = self.body()
        if not isinstance(body, dict):
            raise ApiError(400, ["Can not deserialize instance of the request out of a non-object JSON value."])
        return body

    def int_arg(self, name: str, default: int) -> int:
        raw = self.request.args.get(name)
        if raw in (None, ""):
            return default
        try:
            return int(str(raw))
        except ValueError:
            raise ApiError(400, [f"The value '{raw}' is not valid for the parameter '{name}'."]) from None

    def list_arg(self, name: str) -> list[str] | None:
        values = self.request.args.getlist(name)
        return [v for v in values] if values else None

    def require_user(self) -> User:
        if self.user is None:
            raise ApiError(401, ["You are not authenticated. Authentication required to perform this operation."])
        return self.user
