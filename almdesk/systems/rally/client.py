"""A small Rally WSAPI v2.0 client on almdesk's session factory.

Auth is an API key in ``ZSESSIONID`` or, for on-premises servers, basic auth plus the security
token from ``/security/authorize`` appended as ``?key=`` to writes (fetched again once when Rally
says the key is invalid, e.g. after the session expired). Every response is checked for
``Errors`` — Rally reports most failures with HTTP 200 — and turned into a message an admin acts on.
Secrets never reach a message or a log line.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import requests

from almdesk import __version__
from almdesk.base.settings import ConnectorSettings
from almdesk.base.shapes import integer, listing
from almdesk.errors import AuthError, ConfigError, RemoteError, UserFacingError
from almdesk.net.api import ApiClient, Page, offset_pages
from almdesk.net.redact import scrub
from almdesk.net.session import HttpFactory, send
from almdesk.systems.rally.fields import API_PATH, KEYS_PAGE, normalize_server

MAX_PAGESIZE = 2000
INVALID_KEY = "Invalid key"
ENVELOPES = ("QueryResult", "CreateResult", "OperationResult", "UpdateResult", "DeleteResult", "BatchResult")


class RallyApiError(UserFacingError):
    """Rally ran the request and refused it (``Errors`` in the answer): a failed action, exit code 1."""

    def __init__(self, message: str, hint: str = "", *, field: str | None = None,
                 errors: list[str] | None = None) -> None:
        super().__init__(message, hint, field=field)
        self.errors = list(errors or [])


def envelope_of(data: Any) -> dict[str, Any]:
    """The inner envelope: ``QueryResult``/``CreateResult``/… or a single object read (``{"Defect": {…}}``)."""
    if not isinstance(data, dict) or len(data) != 1:
        return data if isinstance(data, dict) else {}
    inner = next(iter(data.values()))
    return inner if isinstance(inner, dict) else {}


def messages(inner: dict[str, Any], key: str) -> list[str]:
    value = inner.get(key) or []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


class RallyClient:
    """One session to one Rally server; close it when the job ends."""

    def __init__(self, connector: ConnectorSettings, http: HttpFactory) -> None:
        params = connector.params
        self.server = normalize_server(str(params.get("alm_server") or ""))
        self.base = self.server + API_PATH
        self.auth_method = str(params.get("auth_method") or "api_key")
        self.user = str(params.get("alm_user") or "").strip()
        self.http = http
        self.net = ApiClient(http, self.base, label="Rally", origin=self.server, errors=self._error,
                             headers={"X-RallyIntegrationName": "almdesk", "X-RallyIntegrationVendor": "almdesk",
                                      "X-RallyIntegrationVersion": __version__}, url_field="alm_server")
        self.session = self.net.session
        self._token: str | None = None
        self._token_lock = threading.Lock()  # writes in flight at once authorize once (and share its cookies)
        self._secrets: list[str] = []
        if self.auth_method == "basic":
            password = connector.secret("alm_pass")
            if not self.user or not password:
                missing = "user name" if not self.user else "password"
                raise ConfigError(f"Basic authentication needs a {missing}.",
                                  "Enter the Rally user name and password, or switch to an API key.",
                                  field="alm_user" if not self.user else "alm_pass")
            self.session.auth = (self.user, password)
            self._secrets.append(password)
            http.add_secrets([password])
            self.secret_field = "alm_pass"
        else:
            key = connector.secret("alm_api_key").strip()
            if not key:
                raise ConfigError("No API key is set for this connector.",
                                  f"Create an API key in Rally ({KEYS_PAGE}) and paste it into API key.",
                                  field="alm_api_key")
            self.net.set_credential("ZSESSIONID", key)
            self._secrets.append(key)
            http.add_secrets([key])
            self.secret_field = "alm_api_key"

    def close(self) -> None:
        self.net.close()

    # --- low level --------------------------------------------------------------------------
    def url(self, path: str) -> str:
        return self.net.url(path)

    def security_token(self) -> str | None:
        if self.auth_method != "basic":
            return None
        with self._token_lock:
            if self._token is None:
                data = self.call("GET", "security/authorize", what="Rally's security service")
                token = envelope_of(data).get("SecurityToken")
                if not token:
                    raise RemoteError("Rally did not hand out a security token for writes.",
                                      "Check the user may write in Rally, then try again.")
                self._token = str(token)
                self.http.add_secrets([self._token])  # it rides in ?key=, which URL redaction does not know
            return self._token

    def call(self, method: str, path: str, *, params: dict[str, Any] | None = None, body: Any = None,
             what: str = "Rally", write: bool = False) -> dict[str, Any]:
        """Send one request; return the parsed JSON after checking HTTP status and ``Errors``."""
        for attempt in (1, 2):
            query = dict(params or {})
            if write and self.auth_method == "basic":
                query["key"] = self.security_token()
            response = self.net.send(method, path, what=what, params=query or None, json=body)
            if response.status_code != 200:
                raise self._error(response, what)
            data = self.net.decode(response, what)
            if not isinstance(data, dict):
                raise RemoteError(f"{what} sent an empty or unexpected reply (HTTP {response.status_code}).",
                                  "The server or a proxy in between may be failing; try again.")
            errors = messages(envelope_of(data), "Errors")
            if errors and write and self.auth_method == "basic" and attempt == 1 and \
                    any(INVALID_KEY in e for e in errors):
                with self._token_lock:  # the session behind the token expired: authorize again once
                    if self._token == query.get("key"):  # not already renewed by a write in flight meanwhile
                        self._token = None
                continue
            if errors:
                raise self.refusal(errors, what)
            return data
        raise AssertionError("unreachable")

    def _error(self, response: requests.Response, what: str) -> UserFacingError:
        """The message for a failed HTTP status (Rally's refusals with HTTP 200 are :meth:`refusal`)."""
        code = response.status_code
        detail = ""
        try:
            detail = self.clean("; ".join(messages(envelope_of(response.json()), "Errors")))[:200]
        except (ValueError, RecursionError):  # RecursionError: JSON nested too deep
            detail = ""
        if code == 401:
            if self.auth_method == "basic":
                return AuthError(f"Rally refused the user name and password (HTTP 401){': ' + detail if detail else ''}.",
                                 "Check the user name and password; API keys and single sign-on users cannot "
                                 "log in with a password.", field="alm_pass")
            return AuthError(f"Rally refused the API key (HTTP 401){': ' + detail if detail else ''}.",
                             f"The key may be mistyped, deleted or belong to a disabled user. Create a new key in "
                             f"Rally ({KEYS_PAGE}) and paste it into API key.", field="alm_api_key")
        if code == 403:
            return AuthError(f"Rally denied access to {what} (HTTP 403){': ' + detail if detail else ''}.",
                             "Ask a Rally subscription or workspace admin for access.", field=self.secret_field)
        if code == 404:
            return RemoteError(f"{self.server} answered 404 for {what}: it does not serve the Rally web services "
                               f"API ({API_PATH}).",
                               "Use the address of Rally itself, such as https://rally1.rallydev.com, with no path "
                               "after it.", field="alm_server")
        if code == 429:
            return RemoteError("Rally kept refusing requests because too many were running at once (HTTP 429).",
                               "Rally allows 12 concurrent requests per user; stop other jobs using this user and "
                               "try again.")
        if code >= 500:
            return RemoteError(f"Rally failed while answering {what} (HTTP {code}){': ' + detail if detail else ''}.",
                               "Rally may be busy or down; try again in a few minutes.", status=code)
        return RemoteError(f"Rally answered HTTP {code} to {what}{': ' + detail if detail else ''}.",
                           "Check the server URL and the connector's network settings.", field="alm_server")

    def clean(self, text: str) -> str:
        """Server text with any of our secrets (or the security token) masked, should a server echo one."""
        return scrub(text, [*self._secrets, self._token or ""])

    def refusal(self, errors: list[str], what: str) -> UserFacingError:
        errors = [self.clean(e) for e in errors]
        text = "; ".join(errors)[:500]
        if any("Not authorized" in e for e in errors):
            return AuthError(f"Rally refused {what}: {text}.",
                             "Ask a Rally workspace or project admin to give this user Editor rights on the "
                             "project.", field="alm_project")
        if any(e.startswith("Could not parse") for e in errors):
            return RallyApiError(f"Rally could not run the query for {what}: {text}.",
                                 "A name in the connection settings may contain characters Rally cannot query; "
                                 "check the names.", errors=errors)
        return RallyApiError(f"Rally refused {what}: {text}.",
                             "Check the values in the connection settings against Rally.", errors=errors)

    # --- WSAPI operations -------------------------------------------------------------------
    def query(self, type_name: str, *, query: str | None = None, fetch: str = "ObjectID",
              order: str | None = None, workspace: str | None = None, project: str | None = None,
              scope_down: bool = True, scope_up: bool = False, start: int = 1, pagesize: int = 200,
              what: str | None = None) -> tuple[list[dict[str, Any]], int]:
        """One page: (results, TotalResultCount). ``workspace``/``project`` are refs."""
        params = query_params(query=query, fetch=fetch, order=order, workspace=workspace, project=project,
                              scope_down=scope_down, scope_up=scope_up, start=start, pagesize=pagesize)
        data = self.call("GET", type_name, params=params, what=what or f"the {type_name} query")
        inner = envelope_of(data)
        page = f"{what or type_name}, from result {start}"
        results = listing(inner, "Results", server="Rally", what=f"{type_name} results", where=page)
        return results, integer(inner, "TotalResultCount", server="Rally", what=f"the {page}")

    def query_all(self, type_name: str, *, pagesize: int = MAX_PAGESIZE, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Every result, page by page (1-based ``start``), ``pagesize`` at most 2000."""
        def fetch(start: int, size: int) -> Page[dict[str, Any]]:
            return Page(*self.query(type_name, start=start, pagesize=size, **kwargs))

        for page in offset_pages(fetch, pagesize, start=1):
            yield from page

    def count(self, type_name: str, **kwargs: Any) -> int:
        """``TotalResultCount`` of a query, reading a single result."""
        _, total = self.query(type_name, pagesize=1, **kwargs)
        return total

    def collection(self, ref: str, *, fetch: str, query: str | None = None,
                   what: str = "a Rally collection") -> list[dict[str, Any]]:
        def read(start: int, size: int) -> Page[dict[str, Any]]:
            params: dict[str, Any] = {"fetch": fetch, "start": start, "pagesize": size}
            if query:
                params["query"] = query
            inner = envelope_of(self.call("GET", ref, params=params, what=what))
            return Page(list(inner.get("Results") or []), int(inner.get("TotalResultCount") or 0))

        return [item for page in offset_pages(read, MAX_PAGESIZE, start=1) for item in page]

    def read(self, path: str, *, fetch: str = "true", what: str = "a Rally object") -> dict[str, Any]:
        return envelope_of(self.call("GET", path, params={"fetch": fetch}, what=what))

    def create(self, type_name: str, fields: dict[str, Any], *, fetch: str, workspace: str | None = None,
               what: str | None = None) -> dict[str, Any]:
        params: dict[str, Any] = {"fetch": fetch}
        if workspace:
            params["workspace"] = workspace
        data = self.call("POST", f"{type_name.lower()}/create", params=params, body={type_name: fields},
                         what=what or f"creating a {type_name}", write=True)
        obj: dict[str, Any] = envelope_of(data).get("Object") or {}
        return obj

    def update(self, type_name: str, oid: str, fields: dict[str, Any], *, fetch: str,
               what: str | None = None) -> dict[str, Any]:
        data = self.call("POST", f"{type_name.lower()}/{oid}", params={"fetch": fetch}, body={type_name: fields},
                         what=what or f"updating {type_name} {oid}", write=True)
        obj: dict[str, Any] = envelope_of(data).get("Object") or {}
        return obj

    def batch(self, entries: list[dict[str, Any]], *, workspace: str | None = None,
              what: str = "a batch of writes") -> list[dict[str, Any]]:
        """POST /batch; returns one inner result per entry (its own ``Errors`` unchecked)."""
        params = {"workspace": workspace} if workspace else None
        data = self.call("POST", "batch", params=params, body={"Batch": [{"Entry": e} for e in entries]},
                         what=what, write=True)
        results = envelope_of(data).get("Results") or []
        if len(results) != len(entries):
            raise RemoteError(f"Rally answered {len(results)} result(s) to a batch of {len(entries)}.",
                              "Run the sync again; items already created are found by their titles.")
        return [envelope_of(r) if isinstance(r, dict) and len(r) == 1 and next(iter(r)) in ENVELOPES else r
                for r in results]

    def read_batch(self, queries: list[tuple[str, dict[str, Any]]], *, workspace: str | None = None,
                   what: str = "a batch of queries") -> list[tuple[list[dict[str, Any]], int]]:
        """Several independent queries in one ``POST /batch`` of GET entries: per query, like :meth:`query`,
        ``(results, TotalResultCount)``. An entry's ``Errors`` raise as the plain query's would."""
        entries = [{"Path": f"/{type_name}?{urlencode(params)}", "Method": "GET"} for type_name, params in queries]
        params = {"workspace": workspace} if workspace else None
        data = self._read_post("batch", params, {"Batch": [{"Entry": e} for e in entries]}, what)
        results = envelope_of(data).get("Results") or []
        if len(results) != len(entries):
            raise RemoteError(f"Rally answered {len(results)} result(s) to a batch of {len(entries)} queries.",
                              "The server or a proxy in between may be failing; try again.")
        out: list[tuple[list[dict[str, Any]], int]] = []
        for result in results:
            inner = envelope_of(result) if isinstance(result, dict) and len(result) == 1 and \
                next(iter(result)) in ENVELOPES else result
            if not isinstance(inner, dict):
                raise RemoteError(f"Rally answered {what} with an unexpected entry.", "Try again.")
            errors = messages(inner, "Errors")
            if errors:
                raise self.refusal(errors, what)
            out.append((list(inner.get("Results") or []), int(inner.get("TotalResultCount") or 0)))
        return out


    def _read_post(self, path: str, params: dict[str, Any] | None, body: Any, what: str) -> dict[str, Any]:
        """A POST that only reads: sent again after a dropped connection or a server failure, as the
        session does for GETs (it never repeats a POST itself)."""
        attempts = max(0, self.http.retries) + 1
        for attempt in range(attempts):
            try:
                # API keys need no security token; with basic auth Rally may want it on any POST
                return self.call("POST", path, params=params, body=body, what=what,
                                 write=self.auth_method == "basic")
            except RemoteError as exc:
                if isinstance(exc, AuthError) or exc.field is not None or attempt + 1 == attempts:
                    raise
                time.sleep(min(10.0, self.http.backoff * 2 ** attempt))
        raise AssertionError("unreachable")


def query_params(*, query: str | None = None, fetch: str = "ObjectID", order: str | None = None,
                 workspace: str | None = None, project: str | None = None, scope_down: bool = True,
                 scope_up: bool = False, start: int = 1, pagesize: int = 200) -> dict[str, Any]:
    """The URL parameters of one WSAPI query page (see :meth:`RallyClient.query`)."""
    params: dict[str, Any] = {"fetch": fetch, "start": start, "pagesize": min(pagesize, MAX_PAGESIZE)}
    if query:
        params["query"] = query
    if order:
        params["order"] = order
    if workspace:
        params["workspace"] = workspace
    if project:
        params["project"] = project
        params["projectScopeDown"] = "true" if scope_down else "false"
        params["projectScopeUp"] = "true" if scope_up else "false"
    return params


def transport(session: requests.Session, method: str, url: str, *, what: str, **kwargs: Any) -> requests.Response:
    """:func:`~almdesk.net.session.send`, with its address errors pinned on the ``alm_server`` field."""
    try:
        return send(session, method, url, what=what, **kwargs)
    except RemoteError as exc:
        if exc.field == "url":
            exc.field = "alm_server"
        raise


def oid_of(ref: str) -> str:
    """The ObjectID at the end of a ``_ref``."""
    return ref.rstrip("/").rsplit("/", 1)[-1]


def short_ref(ref: str) -> str:
    """``/workspace/123`` from a full ``_ref`` URL (what query parameters take)."""
    parts = ref.rstrip("/").split("/")
    return f"/{parts[-2].lower()}/{parts[-1]}"
