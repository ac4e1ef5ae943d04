"""A broken import file is refused with a message naming the item and the field, and changes nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from almdesk.base.fields import FieldErrors
from almdesk.config import Config
from almdesk.errors import ConfigError
from almdesk.services import Services
from almdesk.transfer import apply_import, plan_import
from tests.admin.conftest import DictKeyring
from tests.admin.helpers import snapshot
from tests.toy import TOKEN


def toy_connector(name: str = "Toy A", **params: Any) -> dict[str, Any]:
    return {"name": name, "system": {"id": "toy"}, "params": {"url": "https://toy.example.com", "user": "u", **params}}


def toy_connection(alias: str = "toy-a", connector: Any = "Toy A", **params: Any) -> dict[str, Any]:
    return {"alias": alias, "connector": connector, "project": "Imported", "frequency": "daily",
            "params": {"toy_project": "DEMO", **params}}


@pytest.fixture
def populated(admin_services: Services) -> Services:
    cfg = admin_services.config
    cfg.save_connector("Existing", "toy", {"url": "https://old.example.com", "user": "u"}, {"token": TOKEN})
    cfg.add_project("Old")
    cfg.save_connection("existing-conn", "Existing", "Old", {"toy_project": "OLD"})
    return admin_services


CASES: list[tuple[str, Any, list[str], str]] = [
    # id, document (or raw text), words the message must hold, field
    ("bad-json", '{"results": [ {"name": "x",, } ]}', ["not valid JSON", "line 1", "column"], "file"),
    ("not-an-export", {"hello": "world"}, ["neither", "alias", "name"], "file"),
    ("unknown-system", {"results": [{"name": "Weird", "system": {"id": "nope"}, "params": {}}]},
     ["Connector 'Weird'", "unknown system 'nope'", "toy"], "system"),
    ("bad-int", {"results": [toy_connector(page_size="lots")]}, ["Connector 'Toy A'", "page_size", "whole number"],
     "page_size"),
    ("bad-url", {"results": [toy_connector(url="toy.example.com")]}, ["Connector 'Toy A'", "url", "https://"], "url"),
    ("bad-priority", {"connectors": [toy_connector()], "results": [toy_connection(sde_min_priority="11")]},
     ["Connection 'toy-a'", "sde_min_priority", "outside the allowed range"], "sde_min_priority"),
    ("bad-choice", {"connectors": [toy_connector()], "results": [toy_connection(conflict_policy="coin")]},
     ["Connection 'toy-a'", "conflict_policy", "alm, sde, timestamp"], "conflict_policy"),
    ("bad-title", {"connectors": [toy_connector(title_format="$title only")], "results": [toy_connection()]},
     ["Connection 'toy-a'", "alm_title_format", "$task_id"], "alm_title_format"),
    ("missing-required", {"connectors": [toy_connector()], "results": [toy_connection(toy_project="")]},
     ["Connection 'toy-a'", "toy_project", "required"], "toy_project"),
    ("bad-frequency", {"connectors": [toy_connector()], "results": [{**toy_connection(), "frequency": "often"}]},
     ["Connection 'toy-a'", "frequency", "hourly"], "frequency"),
    ("duplicate-in-file", {"results": [toy_connector(), toy_connector()]}, ["two connectors named 'Toy A'"], "name"),
    ("duplicate-existing", {"results": [toy_connector("Existing")]}, ["'Existing' already exists", "Rename"], "name"),
    ("duplicate-alias", {"connectors": [toy_connector()], "results": [toy_connection("existing-conn")]},
     ["connection named 'existing-conn' already exists"], "alias"),
    ("unknown-connector-id", {"results": [toy_connection(connector=42)]},
     ["Connection 'toy-a'", "connector id 42", "neither in the file"], "connector"),
    ("system-mismatch", {"results": [{**toy_connection(connector="Existing"), "system": {"id": "tracer"}}]},
     ["Connection 'toy-a'", "system"], "system"),
    ("project-id-only", {"connectors": [toy_connector()], "results": [{**toy_connection(), "project": 77}]},
     ["Connection 'toy-a'", "id 77", "sde_project"], "project"),
]


@pytest.mark.parametrize(("case", "doc", "words", "field"), CASES, ids=[c[0] for c in CASES])
def test_broken_file_names_item_and_field_and_changes_nothing(populated: Services, vault: DictKeyring,
                                                              tmp_path: Path, case: str, doc: Any,
                                                              words: list[str], field: str) -> None:
    path = tmp_path / f"{case}.json"
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    before = snapshot(populated, vault)
    with pytest.raises(ConfigError) as err:
        plan_import(populated.config, path)
    text = str(err.value)
    for word in words:
        assert word in text, (word, text)
    fields = set(err.value.errors) if isinstance(err.value, FieldErrors) else {err.value.field}
    assert err.value.field == field or any(k.endswith(field) for k in fields), (field, fields)
    assert err.value.hint or isinstance(err.value, FieldErrors)
    assert snapshot(populated, vault) == before


def test_every_error_of_the_file_is_reported_at_once(populated: Services, tmp_path: Path) -> None:
    doc = {"connectors": [toy_connector(page_size="x"), toy_connector("Toy B", url="nope")],
           "results": [toy_connection(sde_min_priority="0")]}
    path = tmp_path / "many.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(FieldErrors) as err:
        plan_import(populated.config, path)
    keys = set(err.value.errors)
    assert {"connector 'Toy A' › page_size", "connector 'Toy B' › url", "connection 'toy-a' › sde_min_priority"} <= keys


def _good_file(tmp_path: Path) -> Path:
    doc = {"connectors": [toy_connector(), toy_connector("Toy B")],
           "results": [toy_connection(), toy_connection("toy-b", "Toy B")]}
    path = tmp_path / "good.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_failed_write_rolls_back_rows_and_keyring(populated: Services, vault: DictKeyring, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = populated.config
    plan = plan_import(cfg, _good_file(tmp_path))
    assert plan.missing_secrets == {"Toy A": ["token"], "Toy B": ["token"]}
    before = snapshot(populated, vault)
    real = Config.save_connection
    calls = []

    def flaky(self: Config, *args: Any, **kwargs: Any) -> int:
        calls.append(args[0])
        if len(calls) == 2:
            raise OSError("disk full")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Config, "save_connection", flaky)
    with pytest.raises(OSError):
        apply_import(cfg, plan, {"Toy A": {"token": "secret-a-123"}, "Toy B": {"token": "secret-b-456"}})
    assert calls == ["toy-a", "toy-b"]
    assert snapshot(populated, vault) == before
    assert "secret-a-123" not in repr(vault.entries)


def test_missing_or_unknown_secret_is_refused_before_writing(populated: Services, vault: DictKeyring,
                                                             tmp_path: Path) -> None:
    cfg = populated.config
    plan = plan_import(cfg, _good_file(tmp_path))
    before = snapshot(populated, vault)
    with pytest.raises(FieldErrors) as err:
        apply_import(cfg, plan, {"Toy A": {"token": "x-secret"}})
    assert "Connector 'Toy B', token: API token (token) is required" in str(err.value)
    with pytest.raises(FieldErrors, match="not one of its secret fields"):
        apply_import(cfg, plan, {"Toy A": {"token": "x-secret", "pin": "1234"}, "Toy B": {"token": "y-secret"}})
    assert snapshot(populated, vault) == before
    summary = apply_import(cfg, plan, {"Toy A": {"token": "x-secret"}, "Toy B": {"token": "y-secret"}})
    assert summary["connectors"] == 2 and summary["connections"] == 2 and summary["projects"] == 1
    assert cfg.connector_settings("Toy B").secrets == {"token": "y-secret"}


def test_import_into_the_real_keyring(services: Services, tmp_path: Path) -> None:
    """Under scripts/with-keyring (CI) the asked secrets land in the OS keyring, keyed by the new uid."""
    if not services.secrets.persistent:
        pytest.skip("no usable OS keyring here (CI runs the tests under scripts/with-keyring)")
    import keyring

    plan = plan_import(services.config, _good_file(tmp_path))
    apply_import(services.config, plan, {"Toy A": {"token": "real-keyring-a"}, "Toy B": {"token": "real-keyring-b"}})
    uid = services.config.connector("Toy B").uid
    assert keyring.get_password("almdesk", f"{uid}/token") == "real-keyring-b"
    services.config.delete_connection("toy-b")
    services.config.delete_connector("Toy B")
    assert keyring.get_password("almdesk", f"{uid}/token") is None
