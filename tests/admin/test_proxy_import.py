"""Import asks for the proxy password of a connector behind an authenticated proxy; it goes to the keyring only.

Export lists ``proxy_password`` among ``secrets_omitted``; :func:`plan_import` asks for it (required when the
export says the connector had one and the proxy is explicit with a user), :func:`apply_import` stores it in the
keyring, and the CLI's ``import`` reads it from standard input (an optional one may be an empty line).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from almdesk.config import PROXY_PASSWORD
from almdesk.errors import EXIT_CONFIG, EXIT_OK, ConfigError
from almdesk.secrets import SecretStore
from almdesk.services import Services
from almdesk.systems.registry import Registry
from almdesk.transfer import apply_import, export_config, plan_import
from tests.admin.conftest import DictKeyring
from tests.admin.helpers import run_cli
from tests.toy import TOKEN

PROXY = {"proxy_mode": "explicit", "proxy_url": "http://proxy.example.com:3128", "proxy_user": "carol"}
PROXY_SECRET = "proxy-pass-7f3e"


def _export_with_proxy(svc: Services, path: Path, *, password: bool = True) -> dict:
    secrets = {"token": TOKEN, **({PROXY_PASSWORD: PROXY_SECRET} if password else {})}
    svc.config.save_connector("Toy behind proxy", "toy", {"url": "https://toy.example.com", "user": "admin"},
                              secrets, PROXY)
    doc = export_config(svc.config)
    path.write_text(json.dumps(doc), encoding="utf-8")
    return doc


def test_export_lists_the_proxy_password_and_import_asks_for_it_and_keeps_it_in_the_keyring(
        admin_services: Services, tmp_path: Path, registry: Registry) -> None:
    path = tmp_path / "export.json"
    doc = _export_with_proxy(admin_services, path)
    assert doc["connectors"][0]["secrets_omitted"] == ["token", PROXY_PASSWORD]
    assert PROXY_SECRET not in path.read_text() and TOKEN not in path.read_text()

    vault = DictKeyring()
    other = Services.open(tmp_path / "other", registry=registry, secrets=SecretStore(vault))
    try:
        plan = plan_import(other.config, path)
        assert plan.missing_secrets == {"Toy behind proxy": ["token", PROXY_PASSWORD]}
        assert plan.required_secrets == {"Toy behind proxy": ["token", PROXY_PASSWORD]}
        with pytest.raises(ConfigError) as err:  # the export had one: it is required
            apply_import(other.config, plan, {"Toy behind proxy": {"token": TOKEN}})
        assert PROXY_PASSWORD in str(err.value)
        assert other.config.connectors() == [] and vault.entries == {}
        apply_import(other.config, plan, {"Toy behind proxy": {"token": TOKEN, PROXY_PASSWORD: PROXY_SECRET}})
        settings = other.config.connector_settings("Toy behind proxy")
        assert settings.secret(PROXY_PASSWORD) == PROXY_SECRET
        assert settings.network.proxy_url == f"http://carol:{PROXY_SECRET}@proxy.example.com:3128"
        assert PROXY_SECRET in vault.entries.values()
        info = other.config.connector("Toy behind proxy")
        assert PROXY_SECRET not in json.dumps([info.params, info.network])
        db = b"".join(p.read_bytes() for p in (tmp_path / "other").rglob("*") if p.is_file())
        assert PROXY_SECRET.encode() not in db
    finally:
        other.close()


def test_an_authenticated_proxy_without_export_bookkeeping_asks_for_an_optional_password(
        admin_services: Services, tmp_path: Path) -> None:
    path = tmp_path / "sde.json"
    path.write_text(json.dumps({"name": "Toy SDE", "system": "toy", "network": {**PROXY, PROXY_PASSWORD: "in-file"},
                                "params": {"url": "https://toy.example.com", "user": "admin"}}), encoding="utf-8")
    plan = plan_import(admin_services.config, path)
    assert plan.missing_secrets == {"Toy SDE": ["token", PROXY_PASSWORD]}
    assert plan.required_secrets == {"Toy SDE": ["token"]}
    assert any(PROXY_PASSWORD in s for s in plan.secrets_in_file)  # the value in the file is not kept
    apply_import(admin_services.config, plan, {"Toy SDE": {"token": TOKEN}})
    info = admin_services.config.connector("Toy SDE")
    assert PROXY_PASSWORD not in info.network and "in-file" not in json.dumps(info.network)
    assert admin_services.config.connector_settings("Toy SDE").secret(PROXY_PASSWORD) == ""


def test_no_proxy_password_is_asked_without_an_authenticated_proxy(admin_services: Services, tmp_path: Path) -> None:
    path = tmp_path / "plain.json"
    path.write_text(json.dumps({"name": "Toy", "system": "toy", "network": {"proxy_mode": "system"},
                                "params": {"url": "https://toy.example.com", "user": "admin"}}), encoding="utf-8")
    assert plan_import(admin_services.config, path).missing_secrets == {"Toy": ["token"]}


@pytest.mark.usefixtures("cli_services")
def test_cli_import_reads_the_proxy_password_from_stdin(admin_services: Services, tmp_path: Path,
                                                        vault: DictKeyring) -> None:
    path = tmp_path / "export.json"
    _export_with_proxy(admin_services, path)
    other = tmp_path / "cli-other"
    code, doc, _ = run_cli(other, "import", str(path), stdin=f"{TOKEN}\n")  # the proxy password missing
    assert code == EXIT_CONFIG, doc
    code, doc, _ = run_cli(other, "import", str(path), stdin=f"{TOKEN}\n{PROXY_SECRET}\n")
    assert code == EXIT_OK, doc
    code, shown, _ = run_cli(other, "connector", "show", "Toy behind proxy")
    assert shown["result"]["secrets_set"] == ["token", PROXY_PASSWORD]
    assert PROXY_SECRET not in json.dumps(shown["result"])


@pytest.mark.usefixtures("cli_services")
def test_cli_import_takes_an_empty_line_for_an_optional_proxy_password(admin_services: Services,
                                                                       tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    _export_with_proxy(admin_services, path, password=False)  # proxy user, no password held
    other = tmp_path / "cli-other"
    code, doc, _ = run_cli(other, "import", str(path), stdin=f"{TOKEN}\n\n")
    assert code == EXIT_OK, doc
    assert run_cli(other, "connector", "show", "Toy behind proxy")[1]["result"]["secrets_set"] == ["token"]
