"""CLI and configuration services: connectors with secrets in the real keyring, never in the DB or logs."""

from __future__ import annotations

import os
from pathlib import Path

import keyring
import pytest

from almdesk.errors import EXIT_CONFIG, EXIT_OK, EXIT_REMOTE
from almdesk.sandbox.base import SandboxServer
from almdesk.secrets import SecretStore
from almdesk.services import Services
from tests.cli_run import run
from tests.toy import TOKEN


@pytest.fixture(autouse=True)
def _toy_registry(monkeypatch: pytest.MonkeyPatch, registry) -> None:  # type: ignore[no-untyped-def]
    original = Services.open.__func__  # type: ignore[attr-defined]

    def open_with_toy(cls, data_dir=None, **kw):  # type: ignore[no-untyped-def]
        kw.setdefault("registry", registry)
        return original(cls, data_dir, **kw)

    monkeypatch.setattr(Services, "open", classmethod(open_with_toy))


def test_secret_service_is_the_backend_in_ci() -> None:
    if os.environ.get("ALMDESK_SECRET_SERVICE") != "1":
        pytest.skip("not under scripts/with-keyring (CI runs the tests there)")
    assert "SecretService" in type(keyring.get_keyring()).__module__
    assert SecretStore().persistent


def test_connector_add_keeps_secret_only_in_keyring(data_dir: Path, toy_server: SandboxServer) -> None:
    secret = TOKEN
    code, doc = run(data_dir, "connector", "add", "--system", "toy", "--name", "Toy 1", "--param",
                    f"url={toy_server.url}", "--param", "user=admin", "--secret", "token", stdin=secret + "\n")
    assert code == EXIT_OK, doc
    svc = Services.open(data_dir)
    info = svc.config.connector("Toy 1")
    assert info.params["url"] == toy_server.url and info.params["page_size"] == 100
    assert svc.secrets.get(info.uid, "token") == secret
    if svc.secrets.persistent:
        assert keyring.get_password("almdesk", f"{info.uid}/token") == secret
    svc.close()
    for path in data_dir.rglob("*"):
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path

    code, doc = run(data_dir, "connector", "test", "Toy 1")
    assert code == EXIT_OK, doc
    assert [s["status"] for s in doc["result"]["steps"]][-2:] == ["ok", "ok"]

    code, doc = run(data_dir, "connector", "list")
    assert [c["name"] for c in doc["result"]] == ["Toy 1"]


def test_bad_params_exit_2_and_save_nothing(data_dir: Path) -> None:
    code, doc = run(data_dir, "connector", "add", "--system", "toy", "--name", "bad", "--param", "url=toy.example",
                    "--param", "page_size=0", "--secret", "token", stdin="x\n")
    assert code == EXIT_CONFIG
    assert set(doc["errors"]) >= {"url", "page_size", "user"}
    assert "https://" in doc["errors"]["url"]["message"]
    code, doc = run(data_dir, "connector", "list")
    assert doc["result"] == []


def test_unknown_system_and_missing_secret(data_dir: Path) -> None:
    code, doc = run(data_dir, "connector", "add", "--system", "nope", "--name", "x")
    assert code == EXIT_CONFIG and "Unknown system" in doc["error"]
    code, doc = run(data_dir, "connector", "add", "--system", "toy", "--name", "x", "--param", "url=https://h",
                    "--param", "user=u", "--secret", "token")
    assert code == EXIT_CONFIG and "standard input" in doc["error"]


def test_wrong_token_exits_3(data_dir: Path, toy_server: SandboxServer) -> None:
    run(data_dir, "connector", "add", "--system", "toy", "--name", "t", "--param", f"url={toy_server.url}",
        "--param", "user=u", "--secret", "token", stdin="wrong-token\n")
    code, doc = run(data_dir, "connector", "test", "t")
    assert code == EXIT_REMOTE
    failed = [s for s in doc["result"]["steps"] if s["status"] == "failed"]
    assert failed and failed[0]["key"] == "auth" and "refused the token" in failed[0]["detail"]


def test_refused_port_exits_3(data_dir: Path) -> None:
    run(data_dir, "connector", "add", "--system", "toy", "--name", "t", "--param", "url=http://127.0.0.1:9",
        "--param", "user=u", "--secret", "token", stdin="whatever-token\n")
    code, doc = run(data_dir, "connector", "test", "t")
    assert code == EXIT_REMOTE
    assert "refused" in doc["result"]["message"]


def test_connections_and_projects(data_dir: Path, toy_server: SandboxServer) -> None:
    run(data_dir, "connector", "add", "--system", "toy", "--name", "t", "--param", f"url={toy_server.url}",
        "--param", "user=u", "--secret", "token", stdin=TOKEN + "\n")
    assert run(data_dir, "project", "add", "Web", "--business-unit", "BU", "--application", "Shop")[0] == EXIT_OK
    code, doc = run(data_dir, "connection", "add", "--connector", "t", "--alias", "web-toy", "--project", "Web",
                    "--param", "toy_project=DEMO", "--param", "sde_min_priority=5", "--frequency", "daily")
    assert code == EXIT_OK, doc
    code, doc = run(data_dir, "connection", "show", "web-toy")
    assert doc["result"]["params"]["sde_min_priority"] == 5 and doc["result"]["frequency"] == "daily"
    code, doc = run(data_dir, "connection", "add", "--connector", "t", "--alias", "x", "--project", "Nope",
                    "--param", "sde_min_priority=11", "--param", "alm_title_format=$title")
    assert code == EXIT_CONFIG
    assert {"project", "sde_min_priority", "toy_project"} <= set(doc["errors"])
    code, doc = run(data_dir, "connector", "rm", "t")
    assert code == EXIT_CONFIG and "web-toy" in doc["error"]
    assert run(data_dir, "connection", "rm", "web-toy")[0] == EXIT_OK
    assert run(data_dir, "connector", "rm", "t")[0] == EXIT_OK
