"""Optional fields with a non-empty default can be cleared: the CLI keeps the empty value through save and reload.

``github_issue_label`` (default ``almdesk``), ``github_duplicate_label`` (``duplicate``) and Jira's
``alm_issue_label`` (``SD-Elements``) are ``allow_empty`` fields: an explicit empty value means "no label";
a value left out still gets the default. Fields without ``allow_empty`` (Jira's issue type) still fall
back to their default.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from almdesk import sandbox
from almdesk.errors import EXIT_OK
from tests.cli_run import run


def _add(data_dir: Path, system: str) -> dict[str, Any]:
    info: dict[str, Any] = sandbox.create(system).describe("http://127.0.0.1:9")
    params = [a for k, v in info["params"].items() for a in ("--param", f"{k}={v}")]
    secrets = [a for k in info["secrets"] for a in ("--secret", k)]
    code, doc = run(data_dir, "connector", "add", "--system", system, "--name", f"{system} 1", *params, *secrets,
                    stdin="".join(v + "\n" for v in info["secrets"].values()))
    assert code == EXIT_OK, doc
    assert run(data_dir, "project", "add", "Web")[0] == EXIT_OK
    cparams = [a for k, v in info["connection_params"].items()
               if k not in ("github_issue_label", "github_duplicate_label", "alm_issue_label")
               for a in ("--param", f"{k}={v}")]
    code, doc = run(data_dir, "connection", "add", "--connector", f"{system} 1", "--alias", "web", "--project",
                    "Web", *cparams)
    assert code == EXIT_OK, doc
    return info


def _params(data_dir: Path) -> dict[str, Any]:
    code, doc = run(data_dir, "connection", "show", "web")
    assert code == EXIT_OK, doc
    params: dict[str, Any] = doc["result"]["params"]
    return params


def test_github_labels_can_be_cleared_with_connection_edit_and_stay_cleared(data_dir: Path) -> None:
    _add(data_dir, "github")
    params = _params(data_dir)
    assert params["github_issue_label"] == "almdesk" and params["github_duplicate_label"] == "duplicate"
    code, doc = run(data_dir, "connection", "edit", "web", "--param", "github_issue_label=",
                    "--param", "github_duplicate_label=")
    assert code == EXIT_OK, doc
    params = _params(data_dir)
    assert params["github_issue_label"] == "" and params["github_duplicate_label"] == ""
    # another edit (which re-saves every stored value) keeps them cleared
    assert run(data_dir, "connection", "edit", "web", "--frequency", "daily")[0] == EXIT_OK
    params = _params(data_dir)
    assert params["github_issue_label"] == "" and params["github_duplicate_label"] == ""
    # and a value can be put back
    assert run(data_dir, "connection", "edit", "web", "--param", "github_issue_label=sde")[0] == EXIT_OK
    assert _params(data_dir)["github_issue_label"] == "sde"


def test_jira_label_can_be_cleared_but_the_issue_type_falls_back_to_its_default(data_dir: Path) -> None:
    _add(data_dir, "jira")
    assert _params(data_dir)["alm_issue_label"] == "SD-Elements"
    code, doc = run(data_dir, "connection", "edit", "web", "--param", "alm_issue_label=",
                    "--param", "jira_issue_type=")
    assert code == EXIT_OK, doc
    params = _params(data_dir)
    assert params["alm_issue_label"] == ""
    assert params["jira_issue_type"] == "Bug"
