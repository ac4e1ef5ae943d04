"""Django REST framework conventions the SD Elements API shows on the wire.

Error bodies ``{"detail": "..."}`` (401 ``Invalid token.``, 403, 404 ``Not found.``, 405, 406, 429)
and field errors ``{"field": ["This field is required."]}``; page-number paging
``{"count", "next", "previous", "results"}`` with ``page``/``page_size``, where ``next`` and
``previous`` are absolute URLs keeping the other query parameters; ``include=``/``expand=`` lists.

``MAX_PAGE_SIZE`` is 1000. DRF caps ``page_size`` at the view's ``max_page_size`` and silently
answers the capped page (it does not refuse); SD Elements' own cap is not documented
(UNCONFIRMED), so the sandbox picks a round 1000 and the client follows ``next`` whatever the cap
is: a smaller cap on a real server costs more pages, never tasks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 1000
JSON = "application/json"


class ApiError(Exception):
    """An answer other than success: ``status`` and the DRF body."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body
        self.headers = headers or {}


def detail(status: int, text: str, **headers: str) -> ApiError:
    return ApiError(status, {"detail": text}, dict(headers))


def not_found() -> ApiError:
    return detail(404, "Not found.")


def forbidden() -> ApiError:
    return detail(403, "You do not have permission to perform this action.")


def field_errors(errors: dict[str, list[str]]) -> ApiError:
    return ApiError(400, errors)


def required(body: dict[str, Any], *names: str) -> None:
    missing = {n: ["This field is required."] for n in names if body.get(n) in (None, "")}
    if missing:
        raise field_errors(missing)


def respond(status: int, body: Any = None, headers: dict[str, str] | None = None) -> Response:
    if status == 204:
        return Response(status=204, headers=headers or {})
    return Response(json.dumps(body), status=status, headers=headers or {}, content_type=JSON)


def accepts_json(request: Request) -> bool:
    """True when the Accept header (absent counts as ``*/*``) allows a JSON answer."""
    header = request.headers.get("Accept", "")
    if not header.strip():
        return True
    return request.accept_mimetypes.best_match([JSON]) is not None


def body_of(request: Request) -> dict[str, Any]:
    """The JSON object sent, or a DRF parse error."""
    raw = request.get_data(as_text=True)
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise detail(400, f"JSON parse error - {exc}") from None
    if not isinstance(data, dict):
        raise field_errors({"non_field_errors": [f"Invalid data. Expected a dictionary, but got {type(data).__name__}."]})
    return data


def listed(request: Request, name: str) -> set[str]:
    """The comma-separated values of ``include=``/``expand=`` (repeatable)."""
    out: set[str] = set()
    for value in request.args.getlist(name):
        out.update(v.strip() for v in value.split(",") if v.strip())
    return out


def flag(value: str | None) -> bool | None:
    """A DRF boolean filter value; None when absent or not a boolean (the filter is then ignored)."""
    if value is None:
        return None
    low = value.strip().lower()
    if low in ("true", "1", "yes", "on"):
        return True
    if low in ("false", "0", "no", "off"):
        return False
    return None


@dataclass
class Page:
    number: int
    size: int


def page_of(request: Request) -> Page:
    try:
        size = int(request.args.get("page_size", DEFAULT_PAGE_SIZE))
    except ValueError:
        size = DEFAULT_PAGE_SIZE
    if size <= 0:
        size = DEFAULT_PAGE_SIZE
    size = min(size, MAX_PAGE_SIZE)
    raw = request.args.get("page", "1")
    if raw == "last":
        return Page(-1, size)
    try:
        number = int(raw)
    except ValueError:
        raise not_found_page() from None
    if number < 1:
        raise not_found_page()
    return Page(number, size)


def not_found_page() -> ApiError:
    return detail(404, "Invalid page.")


def paginate(request: Request, items: list[Any]) -> tuple[dict[str, Any], list[Any]]:
    """The envelope (without ``results``) and the slice of ``items`` for the page asked."""
    page = page_of(request)
    count = len(items)
    pages = max(1, -(-count // page.size))
    number = pages if page.number == -1 else page.number
    if number > pages:
        raise not_found_page()
    chunk = items[(number - 1) * page.size:number * page.size]

    def link(n: int) -> str | None:
        if n < 1 or n > pages:
            return None
        args = [(k, v) for k, v in request.args.items(multi=True) if k != "page"]
        if n > 1:
            args.append(("page", str(n)))
        query = urlencode(args)
        return request.base_url + (f"?{query}" if query else "")

    return {"count": count, "next": link(number + 1), "previous": link(number - 1)}, chunk
