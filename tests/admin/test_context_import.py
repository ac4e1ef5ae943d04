"""Import keeps SD Elements' ``alm_context`` (the text of ``$context`` in the title format) as a connection setting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from almdesk.errors import ConfigError
from almdesk.services import Services
from almdesk.transfer import apply_import, export_config, plan_import
from tests.toy import TOKEN


def _doc(params: dict[str, str]) -> dict[str, object]:
    return {"connectors": [{"name": "Toy", "system": "toy",
                            "params": {"url": "https://toy.example.com", "user": "admin"}}],
            "results": [{"alias": "web-toy", "connector": "Toy", "system": "toy",
                         "params": {"toy_project": "DEMO", "sde_project": "Web", **params}}]}


def test_alm_context_and_the_sdetools_title_format_are_imported_and_exported(admin_services: Services,
                                                                            tmp_path: Path) -> None:
    path = tmp_path / "sde.json"
    path.write_text(json.dumps(_doc({"alm_context": "Team A", "alm_title_format": "[${context}] ${task_id} ${title}"})),
                    encoding="utf-8")
    plan = plan_import(admin_services.config, path)
    assert not any("alm_context" in w for w in plan.warnings)
    apply_import(admin_services.config, plan, {"Toy": {"token": TOKEN}})
    params = admin_services.config.connection("web-toy").params
    assert params["alm_context"] == "Team A" and params["alm_title_format"] == "[${context}] ${task_id} ${title}"
    exported = export_config(admin_services.config)["results"][0]["params"]
    assert exported["alm_context"] == "Team A"


def test_a_title_format_with_context_but_no_context_is_refused_naming_the_field(admin_services: Services,
                                                                                tmp_path: Path) -> None:
    path = tmp_path / "sde.json"
    path.write_text(json.dumps(_doc({"alm_title_format": "[$context] $task_id $title"})), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        plan_import(admin_services.config, path)
    assert "Connection 'web-toy', alm_context: Title format uses $context, but Context is empty" in str(err.value)
    assert admin_services.config.connectors() == []
