"""Rally test fixtures: a seeded sandbox on loopback (plain HTTP, and HTTPS for pyral), its describe(),
and ready-made connector/connection settings pointing at it."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from almdesk.base.settings import ConnectionSettings, ConnectorSettings
from almdesk.jobs.context import JobContext
from almdesk.net.session import HttpFactory
from almdesk.sandbox.base import SandboxServer, serve
from almdesk.sandbox.rally import RallyApp, create

ITEMS = 24  # stories in the seeded project; defects and tasks scale with it
API = "/slm/webservice/v2.0"


# One server per test module: stopping a server costs half a second (the serve loop's poll), so
# tests share it and keep to their own data (a tag of their own, names of their own).
@pytest.fixture(scope="module")
def rally_app() -> RallyApp:
    return create(seed=7, items=ITEMS)


@pytest.fixture(scope="module")
def rally_server(rally_app: RallyApp) -> Iterator[SandboxServer]:
    server = serve(rally_app)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def rally_desc(rally_server: SandboxServer) -> dict[str, Any]:
    return rally_server.describe()


@pytest.fixture
def wsapi(rally_server: SandboxServer, rally_desc: dict[str, Any]) -> Iterator[WsapiClient]:
    client = WsapiClient(rally_server.url, rally_desc["secrets"]["alm_api_key"])
    yield client
    client.session.close()


class WsapiClient:
    """A bare requests client for wire-level tests (the system's own client is tested separately)."""

    def __init__(self, url: str, api_key: str) -> None:
        self.url = url + API
        self.session = requests.Session()
        self.session.headers["ZSESSIONID"] = api_key

    def get(self, path: str, **params: Any) -> dict[str, Any]:
        response = self.session.get(f"{self.url}/{path.lstrip('/')}", params=params, timeout=10)
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data

    def post(self, path: str, body: Any, method: str = "POST", **params: Any) -> dict[str, Any]:
        response = self.session.request(method, f"{self.url}/{path.lstrip('/')}", params=params, json=body,
                                        timeout=10)
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data

    def query(self, type_name: str, query: str | None = None, **params: Any) -> dict[str, Any]:
        if query is not None:
            params["query"] = query
        result: dict[str, Any] = self.get(type_name, **params)["QueryResult"]
        return result


@pytest.fixture
def connector(rally_desc: dict[str, Any]) -> ConnectorSettings:
    from almdesk.base.fields import parse_fields
    from almdesk.systems.rally import SYSTEM

    params = SYSTEM.check_connector(parse_fields(SYSTEM.connector_fields, rally_desc["params"]))
    return ConnectorSettings(name="rally-sandbox", system="rally", params=params, secrets=dict(rally_desc["secrets"]))


@pytest.fixture
def connection(connector: ConnectorSettings, rally_desc: dict[str, Any]) -> ConnectionSettings:
    return make_connection(connector, rally_desc["connection_params"])


def make_connection(connector: ConnectorSettings, raw: dict[str, Any]) -> ConnectionSettings:
    from almdesk.base.fields import parse_fields
    from almdesk.systems.common import COMMON_CONNECTION_FIELDS
    from almdesk.systems.rally import SYSTEM

    fields = (*SYSTEM.connection_fields, *COMMON_CONNECTION_FIELDS)
    params = parse_fields(fields, raw)
    return ConnectionSettings(alias="rally-conn", connector=connector, params=params, project="Demo")


@pytest.fixture
def http() -> HttpFactory:
    return HttpFactory(retries=2, backoff=0.01)


@pytest.fixture
def ctx() -> JobContext:
    return JobContext()


# --- HTTPS, for pyral (it always builds https:// URLs) -------------------------------------------


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp / "rally-cert.pem", tmp / "rally-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


@pytest.fixture
def tls_rally(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[SandboxServer, RallyApp]]:
    """The sandbox over HTTPS with a throwaway CA that requests (and so pyral) is told to trust."""
    cert_file, key_file = _self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(cert_file))
    monkeypatch.delenv("HTTPS_PROXY", raising=False)
    monkeypatch.delenv("https_proxy", raising=False)
    app = create(seed=11, items=ITEMS)
    server = serve(app, ssl_context=context)
    yield server, app
    server.stop()
