"""The CLI's ``export --out F`` and ``import F`` (secrets on standard input), end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from almdesk.errors import EXIT_CONFIG, EXIT_OK
from tests.admin.conftest import DictKeyring
from tests.admin.helpers import run_cli
from tests.toy import TOKEN

pytestmark = pytest.mark.usefixtures("cli_services")


def _setup(data_dir: Path, url: str = "https://toy.example.com") -> None:
    code, doc, _ = run_cli(data_dir, "connector", "add", "--system", "toy", "--name", "Toy 1", "--param",
                           f"url={url}", "--param", "user=admin", "--param", "page_size=300", "--secret", "token",
                           stdin=TOKEN + "\n")
    assert code == EXIT_OK, doc
    assert run_cli(data_dir, "project", "add", "Web", "--business-unit", "BU", "--application", "Shop")[0] == EXIT_OK
    code, doc, _ = run_cli(data_dir, "connection", "add", "--connector", "Toy 1", "--alias", "web-toy", "--project",
                           "Web", "--param", "toy_project=DEMO", "--param", "sde_min_priority=4", "--frequency",
                           "weekly", "--debug")
    assert code == EXIT_OK, doc


def test_export_to_file_then_import_with_secret_on_stdin(data_dir: Path, tmp_path: Path,
                                                         vault: DictKeyring) -> None:
    _setup(data_dir)
    out = tmp_path / "almdesk-export.json"
    code, doc, _ = run_cli(data_dir, "export", "--out", str(out))
    assert code == EXIT_OK and doc["result"]["connectors"][0]["name"] == "Toy 1"
    text = out.read_text()
    assert TOKEN not in text
    exported = json.loads(text)
    assert exported["results"][0]["params"]["sde_min_priority"] == 4
    assert exported["connectors"][0]["secrets_omitted"] == ["token"]

    other = tmp_path / "other"
    code, doc, _ = run_cli(other, "import", str(out), stdin="token-typed-by-admin\n")
    assert code == EXIT_OK, doc
    assert doc["result"]["connectors"] == 1 and doc["result"]["connections"] == 1
    code, shown, _ = run_cli(other, "connection", "show", "web-toy")
    assert shown["result"]["params"]["sde_min_priority"] == 4 and shown["result"]["frequency"] == "weekly"
    assert shown["result"]["debug_mode"] is True and shown["result"]["project"] == "Web"
    assert sorted(vault.entries.values()) == sorted([TOKEN, "token-typed-by-admin"])


def test_import_without_secret_on_stdin_exits_2_and_writes_nothing(data_dir: Path, tmp_path: Path,
                                                                   vault: DictKeyring) -> None:
    _setup(data_dir)
    out = tmp_path / "e.json"
    run_cli(data_dir, "export", "--out", str(out))
    other = tmp_path / "other"
    entries = dict(vault.entries)
    code, doc, _ = run_cli(other, "import", str(out), stdin="")
    assert code == EXIT_CONFIG and "standard input" in doc["error"]
    assert run_cli(other, "connector", "list")[1]["result"] == []
    assert vault.entries == entries


def test_import_of_a_broken_file_exits_2_naming_item_and_field(data_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"results": [{"name": "Toy X", "system": {"id": "toy"},
                                            "params": {"url": "https://t.example.com", "user": "u",
                                                       "page_size": "0"}}]}))
    code, doc, _ = run_cli(data_dir, "import", str(bad), stdin="whatever\n")
    assert code == EXIT_CONFIG
    assert doc["field"] == "page_size" and "Connector 'Toy X'" in doc["error"] and "outside" in doc["error"]
    assert doc["hint"]
    code, doc, _ = run_cli(data_dir, "import", str(tmp_path / "missing.json"))
    assert code == EXIT_CONFIG and "Cannot read" in doc["error"]
    assert run_cli(data_dir, "connector", "list")[1]["result"] == []
