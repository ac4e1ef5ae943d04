"""ALM Octane REST client: API-key sign-in, LWSSO cookies, one re-auth under a lock, paging, bulk writes.

One :class:`OctaneClient` per job. It signs in lazily, resends the cookies the server set (a renewed
``LWSSO_COOKIE_KEY`` is picked up from any response), and on a 401 signs in again once — under a
lock, so concurrent requests that hit the same expiry cause one sign-in — then retries once.
Octane's error JSON is turned into :class:`~almdesk.errors.UserFacingError` messages.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import requests

from almdesk.base.shapes import integer, listing
from almdesk.errors import AuthError, RemoteError, UserFacingError
from almdesk.jobs.context import JobContext
from almdesk.net.api import ApiClient, Page, offset_pages
from almdesk.net.bodies import json_body
from almdesk.net.session import HttpFactory
from almdesk.sync.overlap import paged
from almdesk.systems.octane.query import quoted

COOKIE = "LWSSO_COOKIE_KEY"
PAGE_SIZE = 1000  # what Octane's own CI SDK reads per GET (server maximum is a site parameter)
BULK_SIZE = 200  # what Octane's SDKs send per POST/PUT
AUTH_HINT = ("Check the Client ID and Client secret (ALM Octane: Settings › Spaces › API Access). A secret is shown "
             "only when the key is created; if it is lost, regenerate it. If you use a proxy, check its settings.")
WHAT = "ALM Octane"


def octane_error(response: requests.Response) -> tuple[str, str]:
    """``(error_code, description)`` from Octane's error JSON (or the servlet's ``{"message"}``)."""
    try:
        body = response.json()
    except (ValueError, RecursionError):  # RecursionError: JSON nested too deep
        return "", ""
    if not isinstance(body, dict):
        return "", ""
    if "errors" in body and isinstance(body["errors"], list) and body["errors"]:
        body = body["errors"][0] if isinstance(body["errors"][0], dict) else body
    code = str(body.get("error_code") or "")
    text = str(body.get("description_translated") or body.get("description") or body.get("message") or "")
    return code, text.strip()


class OctaneClient:
    """A signed-in conversation with one shared space of one Octane server."""

    def __init__(self, server: str, shared_space: str, client_id: str, client_secret: str, http: HttpFactory,
                 ctx: JobContext | None = None) -> None:
        self.server = server.rstrip("/")
        self.shared_space = shared_space
        self.client_id = client_id
        self._secret = client_secret
        self.http = http
        self.ctx = ctx
        self.net = ApiClient(http, self.server, label=WHAT, errors=self.error)
        self.session = self.net.session
        self._lock = threading.Lock()
        self._generation = 0
        self._signed_in = False
        self.sign_ins = 0
        self.reauths = 0
        http.add_secrets([client_secret])

    # --- URLs ---------------------------------------------------------------------------------
    def space_url(self, path: str = "") -> str:
        return f"{self.server}/api/shared_spaces/{self.shared_space}{path}"

    def ws_url(self, workspace: str, collection: str, ident: str | None = None) -> str:
        url = self.space_url(f"/workspaces/{workspace}/{collection}")
        return f"{url}/{ident}" if ident is not None else url

    def entity_url(self, workspace: str, ident: str, entity_type: str = "work_item") -> str:
        """The browser link that opens an item (works before login, then redirects)."""
        return (f"{self.server}/ui/entity-navigation?p={self.shared_space}/{workspace}"
                f"&entityType={entity_type}&id={ident}")

    # --- authentication -----------------------------------------------------------------------
    def sign_in(self) -> None:
        with self._lock:
            self._sign_in_locked()

    def _sign_in_locked(self) -> None:
        self.session.cookies.clear()  # a sign-in may fail while old cookies are still sent
        if not self.client_id or not self._secret:
            raise AuthError("Client ID and Client secret are both needed to sign in to ALM Octane.",
                            "Enter the API key's Client ID and Client secret.",
                            field="client_id" if not self.client_id else "client_secret")
        url = self.net.url("/authentication/sign_in")
        resp = self.net.send("POST", url, allow_redirects=False,  # a sign-in is never re-sent
                             json={"client_id": self.client_id, "client_secret": self._secret})
        if resp.is_redirect:
            where = resp.headers.get("Location", "")
            raise AuthError(f"ALM Octane's sign-in was redirected (HTTP {resp.status_code}) to {where or 'elsewhere'}; "
                            "almdesk did not send the Client secret there.",
                            "The Location may point at a single sign-on portal or a proxy instead of Octane itself: "
                            "use the address Octane answers on, and an API key (API access is not behind SSO).",
                            field="location")
        if resp.status_code == 401:
            raise AuthError(f"ALM Octane refused Client ID {self.client_id!r} and its secret (HTTP 401).", AUTH_HINT,
                            field="client_secret")
        if resp.status_code == 403:
            _, text = octane_error(resp)
            raise AuthError(f"ALM Octane refused the sign-in (HTTP 403){': ' + text if text else ''}.",
                            "The site may allow only some clients or require SSO; ask the Octane site admin.",
                            field="client_id")
        if resp.status_code == 404:
            raise RemoteError(f"There is no ALM Octane sign-in at {url} (HTTP 404).",
                              "Check the Location: the part before /ui must be the Octane server, including its "
                              "web context if it has one.", field="location")
        if resp.status_code >= 300:
            raise self.error(resp, "signing in")
        if not self.session.cookies.get(COOKIE):
            raise RemoteError("ALM Octane accepted the sign-in but set no LWSSO_COOKIE_KEY cookie.",
                              "A proxy between almdesk and Octane may be removing cookies; check the Network tab.")
        self._generation += 1
        self._signed_in = True
        self.sign_ins += 1

    def sign_out(self) -> None:
        """End the session (best effort: a failure to sign out is not an error of the job)."""
        with self._lock:
            if not self._signed_in:
                return
            self._signed_in = False
        try:
            self.session.post(f"{self.server}/authentication/sign_out")
        except requests.RequestException:
            pass
        self.session.cookies.clear()

    def close(self) -> None:
        self.sign_out()
        self.net.close()

    # --- requests -----------------------------------------------------------------------------
    def request(self, method: str, url: str, *, what: str, **kwargs: Any) -> requests.Response:
        """Send with the session cookies; on 401 sign in again once (under the lock) and retry once."""
        with self._lock:
            if not self._signed_in:
                self._sign_in_locked()
            generation = self._generation
        resp = self.net.send(method, url, **kwargs)
        if resp.status_code != 401:
            return resp
        code, _ = octane_error(resp)
        with self._lock:
            if self._generation == generation:  # nobody has signed in again since we sent
                self.reauths += 1
                if self.ctx is not None:
                    reason = {"VALIDATION_TOKEN_EXPIRED_IDLE_TIME_OUT": "idle time-out",
                              "VALIDATION_TOKEN_EXPIRED_GLOBAL_TIME_OUT": "global time-out"}.get(code, "HTTP 401")
                    self.ctx.log(f"ALM Octane session ended ({reason}); signing in again.")
                self._sign_in_locked()
        resp = self.net.send(method, url, **kwargs)
        if resp.status_code == 401:
            raise AuthError(f"ALM Octane refused {what} right after signing in again (HTTP 401).",
                            "The API key may have been disabled meanwhile; check it in Settings › Spaces › API "
                            "Access.", field="client_secret")
        return resp

    def error(self, resp: requests.Response, what: str) -> UserFacingError:
        """The message for a failed answer to ``what`` (e.g. 'reading defects')."""
        code, text = octane_error(resp)
        status = resp.status_code
        detail = f": {text}" if text else ""
        if status == 401:
            return AuthError(f"ALM Octane refused {what} (HTTP 401){detail}.", AUTH_HINT, field="client_secret")
        if status == 403:
            return AuthError(f"ALM Octane denied {what} (HTTP 403){detail}.",
                             "The API key's role does not allow this; ask the shared space admin to assign it the "
                             "CI/CD Integration (or Team Member) role in this workspace.")
        if status >= 500:
            if not text:
                json_body(resp, WHAT)  # explains HTML or garbage bodies
            return RemoteError(f"ALM Octane failed while {what} (HTTP {status}){detail}.",
                               "The server is failing or overloaded; try again later.", status=status)
        if not text and not code:
            json_body(resp, WHAT)
        return UserFacingError(f"ALM Octane rejected {what} (HTTP {status}){detail}.",
                               f"Octane error code {code}." if code else "")

    def check(self, resp: requests.Response, what: str, ok: Sequence[int] = (200, 201)) -> Any:
        return self.net.check(resp, what, ok)

    # --- collections --------------------------------------------------------------------------
    def get_page(self, workspace: str, collection: str, *, query: str = "", fields: Sequence[str] = (),
                 limit: int = PAGE_SIZE, offset: int = 0, order_by: str = "") -> tuple[list[dict[str, Any]], int]:
        params: dict[str, Any] = {"limit": limit}
        if offset:
            params["offset"] = offset
        if fields:
            params["fields"] = ",".join(fields)
        if query:
            params["query"] = quoted(query)
        if order_by:
            params["order_by"] = order_by
        resp = self.request("GET", self.ws_url(workspace, collection), params=params, what=f"reading {collection}")
        body = self.check(resp, f"reading {collection}")
        where = f"{collection}, from offset {params.get('offset', 0)}"
        data = listing(body, "data", server="ALM Octane", what=collection, where=where)
        return data, integer(body, "total_count", server="ALM Octane", what=f"the page of {where}", default=len(data))

    def iter_all(self, workspace: str, collection: str, *, query: str = "", fields: Sequence[str] = (),
                 page_size: int = PAGE_SIZE, order_by: str = "id", width: int = 1) -> Iterator[dict[str, Any]]:
        """Every entity, page by page; with ``width`` > 1 the pages after the first go up to ``width`` at once
        (:func:`almdesk.sync.overlap.paged`, in order)."""
        if width > 1:
            yield from paged(lambda at, size: self.get_page(workspace, collection, query=query, fields=fields,
                                                            limit=size, offset=at, order_by=order_by),
                             page_size, width, check=self.ctx.check_cancelled if self.ctx else lambda: None)
            return
        def fetch(offset: int, size: int) -> Page[dict[str, Any]]:
            return Page(*self.get_page(workspace, collection, query=query, fields=fields, limit=size,
                                       offset=offset, order_by=order_by))

        for page in offset_pages(fetch, page_size, check=self.ctx.check_cancelled if self.ctx else lambda: None):
            yield from page

    def all(self, workspace: str, collection: str, **kwargs: Any) -> list[dict[str, Any]]:
        return list(self.iter_all(workspace, collection, **kwargs))

    def count(self, workspace: str, collection: str, query: str = "") -> int:
        """How many entities match: one request with ``limit=1``, reading ``total_count``."""
        _, total = self.get_page(workspace, collection, query=query, fields=("id",), limit=1)
        return total

    def create(self, workspace: str, collection: str, items: Sequence[Mapping[str, Any]],
               fields: Sequence[str] = ("name",)) -> list[dict[str, Any] | UserFacingError]:
        """POST ``{"data": items}``; per item the created entity or its error (409 = partial success)."""
        return self._bulk("POST", workspace, collection, items, fields, "creating")

    def update_many(self, workspace: str, collection: str, items: Sequence[Mapping[str, Any]],
                    fields: Sequence[str] = ("name",)) -> list[dict[str, Any] | UserFacingError]:
        return self._bulk("PUT", workspace, collection, items, fields, "updating")

    def update(self, workspace: str, collection: str, ident: str, values: Mapping[str, Any],
               fields: Sequence[str] = ("name",)) -> dict[str, Any]:
        what = f"updating {collection} {ident}"
        resp = self.request("PUT", self.ws_url(workspace, collection, ident), json=dict(values),
                            params={"fields": ",".join(fields)}, what=what)
        body = self.check(resp, what, ok=(200,))
        if not isinstance(body, dict):
            raise RemoteError(f"ALM Octane answered {what} with no entity.", "Try again.")
        return body

    def _bulk(self, method: str, workspace: str, collection: str, items: Sequence[Mapping[str, Any]],
              fields: Sequence[str], verb: str) -> list[dict[str, Any] | UserFacingError]:
        if not items:
            return []
        what = f"{verb} {len(items)} {collection}"
        resp = self.request(method, self.ws_url(workspace, collection), json={"data": [dict(i) for i in items]},
                            params={"fields": ",".join(fields)}, what=what)
        if resp.status_code in (200, 201):
            data = self.check(resp, what).get("data", [])
            if len(data) != len(items):
                raise RemoteError(f"ALM Octane answered {what} with {len(data)} entities.", "Try again.")
            return list(data)
        if resp.status_code == 409:
            body = json_body(resp, WHAT)
            errors = {int(e.get("index", -1)): e for e in body.get("errors", []) if isinstance(e, dict)}
            created = iter(body.get("data", []))
            out: list[dict[str, Any] | UserFacingError] = []
            for index in range(len(items)):
                if index in errors:
                    err = errors[index]
                    text = err.get("description_translated") or err.get("description") or err.get("error_code")
                    out.append(UserFacingError(f"ALM Octane rejected item {index + 1} of {what}: {text}",
                                               f"Octane error code {err.get('error_code', '?')}."))
                else:
                    entity = next(created, None)
                    out.append(entity if isinstance(entity, dict) and "id" in entity else
                               RemoteError(f"ALM Octane did not return item {index + 1} of {what}.",
                                           "Look for it in ALM Octane before trying again."))
            return out
        if len(items) == 1 and 400 <= resp.status_code < 500 and resp.status_code not in (401, 403):
            return [self.error(resp, what)]
        raise self.error(resp, what)
