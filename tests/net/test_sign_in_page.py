"""A single sign-on or proxy interstitial (HTTP 200, an HTML sign-in form) in front of each system's API:
Test Connection names it as a sign-in page, points at the server URL field, and sends no credential on.

The interstitial is a loopback server of our own: every answer is the same sign-in form, whatever was asked.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from werkzeug.wrappers import Request, Response

from almdesk.systems.registry import Registry
from tests.net.test_credential_scope import AUTHS, Auth, Catcher, Seen, Server, _connector, _run

SSO_PAGE = ("<!DOCTYPE html><html><head><title>Sign in - Example Corp SSO</title></head><body>"
            "<form method=post action=/saml/login><input name=username><input type=password name=password>"
            "<button>Sign in</button></form></body></html>")


class Interstitial(Catcher):
    """Answers everything with the sign-in form, as an SSO gateway that does not know API clients does."""

    @Request.application  # type: ignore[misc]
    def __call__(self, request: Request) -> Response:
        self.seen.append(Seen(request.method, request.url, dict(request.headers), request.get_data()))
        return Response(SSO_PAGE, content_type="text/html; charset=utf-8")


@pytest.fixture
def gateway() -> Iterator[Server]:
    server = Server(Interstitial())
    yield server
    server.stop()


ONE_EACH = [pytest.param(a, id=a.system) for a in {a.system: a for a in reversed(AUTHS)}.values()]


@pytest.mark.parametrize("auth", ONE_EACH)
def test_a_sign_in_page_instead_of_json_is_named(auth: Auth, gateway: Server) -> None:
    connector = _connector(auth, gateway.url, gateway.url)
    results = _run(Registry.default(), connector)
    failed = next(r for r in results if r.status == "failed")
    assert "sign-in page" in failed.detail, (failed.key, failed.detail)
    assert failed.field == "url" or failed.field == "alm_server" or failed.field == "server", failed.field
    assert all(r.status == "skipped" for r in results[results.index(failed) + 1:])
