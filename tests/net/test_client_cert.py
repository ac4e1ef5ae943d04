"""Client certificates (mutual TLS) over real loopback HTTPS: the Jira Data Center sandbox behind a TLS
server that requires a certificate from its own CA (:class:`almdesk.sandbox.jira.tls.MutualTls`).

With the right certificate Test Connection passes end to end (network and Jira steps) and a sync runs;
without one, with one from another CA, with a wrong passphrase, a key that does not match, a missing,
DER or key-less file, each failure is named with the field at fault. The passphrase reaches neither the
trace, the log, the export nor the database.
"""

from __future__ import annotations

import json
import os
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from almdesk.base.settings import ConnectorSettings, NetworkSettings
from almdesk.errors import ConfigError, RemoteError, UserFacingError
from almdesk.jobs.context import JobContext
from almdesk.net.clientcert import load_client_cert
from almdesk.net.diagnose import WARNING
from almdesk.net.session import HttpFactory, send
from almdesk.sandbox.base import SandboxServer, serve
from almdesk.sandbox.jira import create
from almdesk.sandbox.jira.tls import MutualTls
from almdesk.services import actions
from almdesk.systems.jira import SYSTEM
from tests.cli_run import run
from tests.jira.cli_e2e import connector_and_connection, files_holding

from .helpers import diagnose

pytestmark = pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")


@dataclass
class Site:
    pki: MutualTls
    server: SandboxServer
    url: str  # https://localhost:<port>


def _serve(mtls: MutualTls, context: ssl.SSLContext) -> Site:
    server = serve(create(seed=5, mode="dc", issues=6), ssl_context=context)
    return Site(mtls, server, f"https://localhost:{server.port}")


@pytest.fixture(scope="module")
def mtls(tmp_path_factory: pytest.TempPathFactory) -> MutualTls:
    return MutualTls(tmp_path_factory.mktemp("mtls"))


@pytest.fixture(scope="module")
def site(mtls: MutualTls) -> Iterator[Site]:
    s = _serve(mtls, mtls.server_context())
    yield s
    s.server.stop()


def net(mtls: MutualTls, **cert: str) -> NetworkSettings:
    return NetworkSettings(ca_bundle=mtls.ca, timeout=5, **cert)


def good(mtls: MutualTls) -> dict[str, str]:
    return {"client_cert": mtls.client_cert, "client_key": mtls.client_key, "client_key_password": mtls.passphrase}


def connector(site: Site, **params: str) -> ConnectorSettings:
    desc = site.server.describe()
    raw = {**desc["params"], "url": site.url, "client_cert": site.pki.client_cert,
           "client_key": site.pki.client_key, **params}
    secrets = {**desc["secrets"], "client_key_passphrase": site.pki.passphrase}
    return ConnectorSettings("mtls", "jira", SYSTEM.check_connector(raw), secrets,
                             NetworkSettings(ca_bundle=site.pki.ca, timeout=5))


def get(url: str, network: NetworkSettings) -> int:
    with HttpFactory(network, retries=0).session() as session:
        return send(session, "GET", url + "/rest/api/2/serverInfo", what="Jira").status_code


def failure(url: str, network: NetworkSettings) -> UserFacingError:
    with pytest.raises(UserFacingError) as info:
        get(url, network)
    return info.value


# --- it works ---------------------------------------------------------------------------------

def test_test_connection_presents_the_certificate_end_to_end(site: Site) -> None:
    """The connector's fields reach the TLS layer: the network steps and the Jira steps all pass."""
    c = connector(site)
    assert (c.network.client_cert, c.network.client_key) == (site.pki.client_cert, site.pki.client_key)
    outcome = actions.test_job(SYSTEM, c, None, HttpFactory(c.network, retries=0))(JobContext())
    assert outcome.succeeded, outcome.failure
    steps = {s.key: s for s in outcome.steps}
    assert f"presented the client certificate {site.pki.client_cert}" in steps["tls"].detail
    assert steps["tls"].status == "ok" and steps["http"].detail.startswith("HTTP 200")
    assert steps["jira-auth"].detail.startswith("Signed in as Sandbox Admin")


def test_a_sync_runs_through_mutual_tls(site: Site) -> None:
    from tests.jira.conftest import connection_for

    c = connector(site)
    adapter = SYSTEM.sync_adapter(connection_for(c, site.server), HttpFactory(c.network, retries=0), JobContext())
    try:
        adapter.prepare()
        assert [i.key for i in adapter.iter_items()]
    finally:
        adapter.close()


@pytest.mark.parametrize("which", ["combined", "plain key"])
def test_one_pem_with_both_and_a_key_without_passphrase(site: Site, which: str) -> None:
    mtls = site.pki
    cert = ({"client_cert": mtls.client_combined} if which == "combined"
            else {"client_cert": mtls.client_cert, "client_key": mtls.client_key_plain})
    assert get(site.url, net(mtls, **cert)) == 200
    assert diagnose(site.url, net(mtls, **cert)).error is None


def test_validation_off_still_presents_the_certificate(site: Site) -> None:
    out = diagnose(site.url, replace(net(site.pki, **good(site.pki)), verify=False, ca_bundle=""))
    assert out.error is None, out.error
    assert out.details["tls"].startswith(WARNING) and "presented the client certificate" in out.details["tls"]
    assert get(site.url, replace(net(site.pki, **good(site.pki)), verify=False, ca_bundle="")) == 200


# --- the server refuses -------------------------------------------------------------------------

def test_without_a_certificate_test_connection_names_it(site: Site) -> None:
    """TLS 1.3: the handshake completes, the server's alert comes with the first answer (the HTTP step)."""
    out = diagnose(site.url, net(site.pki))
    assert out.details["tls"].startswith("TLSv1.3")
    assert out.failed == "http" and out.field == "client_cert"
    assert "requires a client certificate" in out.message and "certificate required" in out.message
    err = failure(site.url, net(site.pki))  # and a job's request says the same
    assert isinstance(err, RemoteError) and err.field == "client_cert" and "requires a client certificate" in err.message


def test_a_certificate_from_another_authority_is_named(site: Site) -> None:
    rogue = net(site.pki, client_cert=site.pki.rogue_cert, client_key=site.pki.rogue_key)
    out = diagnose(site.url, rogue)
    assert out.failed == "tls" and out.field == "client_cert"
    assert "unknown ca" in out.message and "does not trust the authority" in out.message
    assert site.pki.rogue_cert in out.message
    assert "unknown ca" in failure(site.url, rogue).message


def test_tls12_server_that_wants_a_certificate(mtls: MutualTls) -> None:
    """Up to TLS 1.2 the handshake itself fails (``handshake failure``): the hint names the client certificate."""
    context = mtls.server_context()
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    s = _serve(mtls, context)
    try:
        out = diagnose(s.url, net(mtls))
        assert out.failed == "tls"
        assert "client certificate" in f"{out.message} {out.error.hint if out.error else ''}"
        assert get(s.url, net(mtls, **good(mtls))) == 200
    finally:
        s.server.stop()


# --- the files ----------------------------------------------------------------------------------

def load_error(**cert: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_client_cert(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT), NetworkSettings(**cert))  # type: ignore[arg-type]
    return info.value


def test_wrong_passphrase(site: Site) -> None:
    bad = {**good(site.pki), "client_key_password": "not-the-passphrase"}
    out = diagnose(site.url, net(site.pki, **bad))
    assert out.failed == "tls" and out.field == "client_key_passphrase"
    assert "passphrase does not unlock" in out.message
    assert failure(site.url, net(site.pki, **bad)).field == "client_key_passphrase"


def test_an_encrypted_key_without_passphrase_never_prompts(mtls: MutualTls) -> None:
    err = load_error(client_cert=mtls.client_cert, client_key=mtls.client_key)
    assert err.field == "client_key_passphrase" and "protected by a passphrase" in err.message


def test_key_that_does_not_match(mtls: MutualTls) -> None:
    err = load_error(client_cert=mtls.rogue_cert, client_key=mtls.client_key_plain)
    assert err.field == "client_key" and "does not belong to the certificate" in err.message


def test_missing_der_and_keyless_files(mtls: MutualTls, tmp_path: Path) -> None:
    err = load_error(client_cert=str(tmp_path / "nope.pem"))
    assert err.field == "client_cert" and "does not exist" in err.message
    der = tmp_path / "client.crt"
    der.write_bytes(ssl.PEM_cert_to_DER_cert(Path(mtls.client_cert).read_text()))
    err = load_error(client_cert=str(der), client_key=mtls.client_key_plain)
    assert err.field == "client_cert" and "binary (DER)" in err.message and "openssl x509 -inform der" in err.hint
    p12 = tmp_path / "client.p12"
    p12.write_bytes(b"\x30\x82\x01\x00not really")
    err = load_error(client_cert=str(p12))
    assert "PKCS#12" in err.message and "openssl pkcs12" in err.hint
    err = load_error(client_cert=mtls.client_cert)
    assert err.field == "client_key" and "holds no private key" in err.message
    err = load_error(client_cert=mtls.client_cert, client_key=mtls.ca)
    assert err.field == "client_key" and "client key file" in err.message and "holds no private key" in err.message
    garbage = tmp_path / "garbage.key"
    garbage.write_text("not a key")
    err = load_error(client_cert=mtls.client_cert, client_key=str(garbage))
    assert err.field == "client_key" and "not PEM" in err.message


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file(mtls: MutualTls, tmp_path: Path) -> None:
    locked = tmp_path / "locked.pem"
    locked.write_bytes(Path(mtls.client_combined).read_bytes())
    locked.chmod(0)
    try:
        err = load_error(client_cert=str(locked))
    finally:
        locked.chmod(0o600)
    assert err.field == "client_cert" and "cannot be read" in err.message


def test_the_connector_checks_the_files_and_refuses_them_on_cloud(mtls: MutualTls, tmp_path: Path) -> None:
    base = {"url": "https://jira.example.com", "deployment": "datacenter", "auth_method": "pat"}
    with pytest.raises(ConfigError) as info:
        SYSTEM.check_connector({**base, "client_cert": str(tmp_path / "gone.pem")})
    assert info.value.field == "client_cert"
    with pytest.raises(ConfigError) as info:
        SYSTEM.check_connector({**base, "client_key": mtls.client_key})
    assert info.value.field == "client_cert" and "without a Client certificate" in info.value.message
    with pytest.raises(ConfigError) as info:
        SYSTEM.check_connector({**base, "url": "https://acme.atlassian.net", "deployment": "auto",
                                "auth_method": "api_token", "user": "a@example.com", "client_cert": mtls.client_cert})
    assert info.value.field == "client_cert" and "Cloud does not use client certificates" in info.value.message
    ok = SYSTEM.check_connector({**base, "client_cert": mtls.client_cert, "client_key": mtls.client_key})
    assert ok["client_cert"] == mtls.client_cert  # an encrypted key passes: its passphrase is a secret


def test_the_passphrase_is_never_stored_or_recorded(site: Site, tmp_path: Path) -> None:
    """Saved (keyring), tested and synced with traces on: the passphrase is in none of the data directory's
    files (database, log, traces), and NetworkSettings never serialises or shows it."""
    mtls = site.pki
    data_dir = tmp_path / "data"
    desc = site.server.describe()
    params = {**desc["params"], "url": site.url, "client_cert": mtls.client_cert, "client_key": mtls.client_key}
    secrets = {**desc["secrets"], "client_key_passphrase": mtls.passphrase}
    connector_and_connection(data_dir, tmp_path, params, secrets, {"ca_bundle": mtls.ca}, desc["connection_params"])
    code, doc = run(data_dir, "connection", "test", "a")
    assert code == 0, doc
    code, doc = run(data_dir, "sync", "a")
    assert code == 0 and doc["result"]["counts"]["created"] >= 1, doc
    assert list((data_dir / "traces").glob("*.jsonl")), "debug mode wrote no trace: the check would be vacuous"
    assert files_holding(data_dir, mtls.passphrase) == []
    settings = replace(NetworkSettings(), **good(mtls))
    assert mtls.passphrase not in json.dumps(settings.to_dict()) and mtls.passphrase not in repr(settings)
