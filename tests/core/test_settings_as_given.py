"""Settings as given: Test Connection, dry run and sync on values nobody saved, with nothing saved.

``Config.draft_connector`` / ``draft_connection`` build settings from a form's (or the command line's)
values; the job specs run them. The stored rows (the real SQLite file) and the keyring (the real one,
under scripts/with-keyring) stay exactly as they were. The CLI twins: ``connector test NAME --param
--secret``, ``connection test ALIAS --param``, ``sync ALIAS --dry-run --param``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from sqlalchemy import select

from almdesk.base.fields import FieldErrors
from almdesk.errors import EXIT_CONFIG, EXIT_OK, EXIT_REMOTE
from almdesk.models import Connection, Connector
from almdesk.sandbox.base import SandboxServer, serve
from almdesk.services import Services
from tests.cli_run import run
from tests.toy import TOKEN


def snapshot(services: Services) -> dict[str, Any]:
    """Every connector and connection row as stored, and every keyring entry of the connectors."""
    with services.store.session() as s:
        connectors = [(c.id, c.name, dict(c.params), dict(c.network)) for c in s.scalars(select(Connector))]
        connections = [(c.id, c.alias, dict(c.params), c.debug_mode) for c in s.scalars(select(Connection))]
        uids = list(s.scalars(select(Connector.uid)))
    secrets = {(uid, key): services.secrets.get(uid, key) for uid in uids for key in ("token", "proxy_password",
                                                                                       "client_secret")}
    backend = {k: keyring.get_password("almdesk", f"{k[0]}/{k[1]}") for k in secrets} \
        if services.secrets.persistent else {}
    return {"connectors": connectors, "connections": connections, "secrets": secrets, "keyring": backend}


@pytest.fixture
def toy(services: Services, toy_server: SandboxServer) -> int:
    return services.config.save_connector("Toy", "toy", {"url": toy_server.url, "user": "admin"},
                                          {"token": TOKEN})


def test_draft_connector_tests_typed_values_and_saves_nothing(services: Services, toy: int) -> None:
    before = snapshot(services)
    draft = services.config.draft_connector(toy, "toy", {"url": services.config.connector(toy).params["url"],
                                                         "user": "admin"}, {"token": "typed-but-wrong-token"}, {})
    assert draft.id == toy and draft.secret("token") == "typed-but-wrong-token"
    result = services.run(services.test_spec(connector=draft))
    assert result.state == "failed"
    assert result.outcome.failure is not None and result.outcome.failure.field == "token"
    assert snapshot(services) == before

    blank = services.config.draft_connector(toy, "toy", {"url": draft.params["url"], "user": "admin"},
                                            {"token": ""}, {})
    assert blank.secret("token") == TOKEN  # a blank secret is the keyring's
    assert services.run(services.test_spec(connector=blank)).state == "succeeded"
    assert snapshot(services) == before


def test_draft_connector_of_a_new_connector_and_its_errors(services: Services, toy_server: SandboxServer) -> None:
    draft = services.config.draft_connector(None, "toy", {"url": toy_server.url, "user": "admin"},
                                            {"token": TOKEN}, {}, name="Not saved")
    assert draft.id is None and draft.name == "Not saved"
    assert services.run(services.test_spec(connector=draft)).state == "succeeded"
    assert services.config.connectors() == []
    with pytest.raises(FieldErrors) as err:
        services.config.draft_connector(None, "toy", {"url": "toy.example", "user": "root"}, {}, {})
    assert {"url", "token"} <= set(err.value.errors)


def test_draft_connection_runs_unsaved_params(services: Services, toy: int) -> None:
    cfg = services.config
    cfg.add_project("Web", "BU", "Shop")
    a = cfg.save_connection("a", toy, "Web", {"toy_project": "DEMO"})
    cfg.save_connection("b", toy, "Web", {"toy_project": "DEMO"})
    before = snapshot(services)
    stored = services.run(services.test_spec(connection=a))
    assert stored.state == "failed" and stored.outcome.failure is not None
    assert stored.outcome.failure.field == "alm_context"  # both write to one target with one context
    draft = cfg.draft_connection(a, toy, "Web", {"toy_project": "DEMO", "alm_context": "blue"})
    assert draft.id == a and draft.alias == "a" and draft.business_unit == "BU"
    result = services.run(services.test_spec(connection=draft))
    assert result.state == "succeeded", result.outcome.message
    assert snapshot(services) == before


# --- the CLI twins --------------------------------------------------------------------------------
@pytest.fixture
def octane_cli(data_dir: Path) -> Iterator[dict[str, Any]]:
    from almdesk.sandbox.octane import create

    server = serve(create(seed=3, defects=20, stories=5))
    try:
        info = server.app.describe(server.url)
        args = [f"--param={k}={v}" for k, v in info["params"].items()]
        secret_keys = list(info["secrets"])
        stdin = "".join(info["secrets"][k] + "\n" for k in secret_keys)
        code, doc = run(data_dir, "connector", "add", "--system", "octane", "--name", "O", *args,
                        *[f"--secret={k}" for k in secret_keys], stdin=stdin)
        assert code == EXIT_OK, doc
        assert run(data_dir, "project", "add", "Shop")[0] == EXIT_OK
        conn = [f"--param={k}={v}" for k, v in info["connection_params"].items()]
        code, doc = run(data_dir, "connection", "add", "--connector", "O", "--alias", "shop", "--project", "Shop",
                        *conn)
        assert code == EXIT_OK, doc
        yield info
    finally:
        server.stop()


def stored(data_dir: Path) -> dict[str, Any]:
    svc = Services.open(data_dir)
    try:
        return snapshot(svc)
    finally:
        svc.close()


def test_cli_connector_test_with_param_and_secret_saves_nothing(data_dir: Path, octane_cli: dict[str, Any]) -> None:
    before = stored(data_dir)
    assert run(data_dir, "connector", "test", "O")[0] == EXIT_OK
    code, doc = run(data_dir, "connector", "test", "O", "--secret", "client_secret", stdin="not-the-secret\n")
    assert code == EXIT_REMOTE, doc
    failed = [s for s in doc["result"]["steps"] if s["status"] == "failed"]
    assert failed and failed[0]["field"] == "client_secret"
    code, doc = run(data_dir, "connector", "test", "O", "--param", "client_id=nobody")
    assert code == EXIT_REMOTE, doc
    code, doc = run(data_dir, "connector", "test", "O", "--param", "timeout=20")
    assert code == EXIT_OK, doc  # a Network field is a valid key too
    assert stored(data_dir) == before
    assert run(data_dir, "connector", "test", "O")[0] == EXIT_OK  # the stored settings still work


def test_cli_unknown_keys_are_usage_errors_naming_the_valid_ones(data_dir: Path, octane_cli: dict[str, Any]) -> None:
    code, doc = run(data_dir, "connector", "test", "O", "--param", "colour=blue")
    assert code == EXIT_CONFIG and "colour" in doc["error"] and "client_id" in doc["hint"] and "timeout" in doc["hint"]
    code, doc = run(data_dir, "connector", "test", "O", "--param", "client_secret=s3cret")
    assert code == EXIT_CONFIG and "--secret" in doc["hint"]  # a secret never comes from argv
    code, doc = run(data_dir, "connector", "test", "O", "--secret", "client_id", stdin="x\n")
    assert code == EXIT_CONFIG and "client_secret" in doc["hint"]
    code, doc = run(data_dir, "connection", "test", "shop", "--param", "nope=1")
    assert code == EXIT_CONFIG and "workspace" in doc["hint"] and "alm_context" in doc["hint"]
    code, doc = run(data_dir, "sync", "shop", "--dry-run", "--param", "nope=1")
    assert code == EXIT_CONFIG and "workspace" in doc["hint"]
    code, doc = run(data_dir, "sync", "--due", "--param", "workspace=1")
    assert code == EXIT_CONFIG


def test_cli_connection_test_and_dry_run_with_param(data_dir: Path, octane_cli: dict[str, Any]) -> None:
    before = stored(data_dir)
    assert run(data_dir, "connection", "test", "shop")[0] == EXIT_OK
    code, doc = run(data_dir, "connection", "test", "shop", "--param", "workspace=9999")
    assert code != EXIT_OK, doc
    code, doc = run(data_dir, "sync", "shop", "--dry-run")
    assert code == EXIT_OK, doc
    code, doc = run(data_dir, "sync", "shop", "--dry-run", "--param", "workspace=9999")
    assert code != EXIT_OK, doc
    assert stored(data_dir) == before
    code, doc = run(data_dir, "connection", "show", "shop")
    assert doc["result"]["params"]["workspace"] == octane_cli["connection_params"]["workspace"]


def test_cli_help_says_where_the_secret_comes_from(capsys: pytest.CaptureFixture[str]) -> None:
    from almdesk.cli_parser import build_parser

    with pytest.raises(SystemExit):
        build_parser().parse_args(["connector", "test", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "prompt without echo" in text and "standard input" in text and "never from the command line" in text
