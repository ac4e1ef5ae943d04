"""The SD Elements system against its sandbox over real HTTP: Test Connection steps (and how each
failure is named), the client's retries and errors, and the task pull's mapping."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from almdesk.base.records import StepResult
from almdesk.base.settings import ConnectorSettings
from almdesk.errors import RemoteError
from almdesk.jobs.context import JobContext
from almdesk.net.session import HttpFactory
from almdesk.sandbox.base import Faults, SandboxServer, serve
from almdesk.sandbox.sdelements import SdeApp, create
from almdesk.services.actions import run_steps
from almdesk.systems.base import Capability
from almdesk.systems.registry import Registry, is_alm_target
from almdesk.systems.sdelements import SYSTEM
from almdesk.systems.sdelements.client import SdeClient
from almdesk.systems.sdelements.fields import server_root
from almdesk.systems.sdelements.source import map_task, pull_tasks, read_task, status_for, statuses


def settings(url: str, token: str) -> ConnectorSettings:
    return ConnectorSettings("sde", "sdelements", SYSTEM.check_connector({"url": url}), {"api_token": token})


def run(connector: ConnectorSettings, project: int | None = None) -> list[StepResult]:
    http = HttpFactory()
    steps = (SYSTEM.project_test_steps(connector, project, http) if project is not None
             else SYSTEM.test_steps(connector, None, http))
    return run_steps(steps, JobContext())


def failed(results: list[StepResult]) -> StepResult:
    bad = [r for r in results if r.status == "failed"]
    assert len(bad) == 1, results
    return bad[0]


@pytest.fixture
def fresh() -> Iterator[tuple[SandboxServer, SdeApp]]:
    app = create(seed=5)
    server = serve(app)
    yield server, app
    server.stop()


def test_registry_knows_a_task_source() -> None:
    registry = Registry.default()
    assert "sdelements" in registry and SYSTEM.capabilities == {Capability.TEST, Capability.TASK_SOURCE}
    assert not is_alm_target(SYSTEM)
    assert "sdelements" not in registry.alm_targets() and "jira" in registry.alm_targets()


def test_server_url_is_cut_to_the_root() -> None:
    assert server_root("https://sde.example.com/api/v2/projects/") == "https://sde.example.com"
    assert server_root("https://x.test/sde/bunits/bu/app/p/") == "https://x.test/sde"
    assert server_root("https://x.test/sde/api") == "https://x.test/sde"


def test_steps_pass_for_connector_and_bound_project(sde_server: SandboxServer, sde_desc: dict[str, Any]) -> None:
    connector = settings(sde_desc["url"], sde_desc["secrets"]["api_token"])
    results = run(connector)
    assert [r.key for r in results] == ["api", "token", "version"]
    assert all(r.status == "ok" for r in results), results
    assert "admin@example.com" in results[1].detail and "SD Elements 2024.1" in results[2].detail
    bound = run(connector, project=1)
    assert [r.status for r in bound] == ["ok"] * 5, bound
    assert bound[3].detail == "General / Demo Application / Demo Project (id 1)"


def test_wrong_token_fails_at_the_token_step(sde_desc: dict[str, Any]) -> None:
    bad = failed(run(settings(sde_desc["url"], "wrong")))
    assert bad.key == "token" and "Invalid token." in bad.detail and bad.field == "api_token"
    assert "APIv2" in bad.hint and bad.exit_code == 3


def test_missing_project_and_permissions(sde_desc: dict[str, Any], sde_app: SdeApp) -> None:
    admin = settings(sde_desc["url"], sde_desc["secrets"]["api_token"])
    gone = failed(run(admin, project=999))
    assert gone.key == "project" and "no project with id 999" in gone.detail and gone.field == "sde_project"
    normal = failed(run(settings(sde_desc["url"], sde_app.token("dev@example.com")), project=1))
    assert normal.key == "permissions" and "sync_with_alm" in normal.detail and "mark_task" not in normal.detail
    viewer = failed(run(settings(sde_desc["url"], sde_app.token("viewer@example.com")), project=1))
    assert "sync_with_alm, mark_task" in viewer.detail and "project role" in viewer.hint


def test_sign_in_page_is_named(fresh: tuple[SandboxServer, SdeApp]) -> None:
    server, app = fresh
    app.sign_in_page = True
    bad = failed(run(settings(server.url, app.token("admin@example.com"))))
    assert bad.key == "api" and "sign-in page (single sign-on or a proxy)" in bad.detail
    assert "/api/v2/" in bad.hint and bad.field == "url"


def test_wrong_path_is_no_api(fresh: tuple[SandboxServer, SdeApp]) -> None:
    server, app = fresh
    connector = ConnectorSettings("sde", "sdelements", {"url": server.url + "/elsewhere"},
                                  {"api_token": app.token("admin@example.com")})
    bad = failed(run(connector))
    assert bad.key == "api" and bad.field == "url"


def test_429_waits_what_the_server_asks(fresh: tuple[SandboxServer, SdeApp]) -> None:
    server, app = fresh
    waits: list[float] = []
    client = SdeClient(settings(server.url, app.token("admin@example.com")), HttpFactory(), sleep=waits.append)
    app.throttle(2, retry_after=9)
    assert client.get("users/me/", what="checking")["id"] == 1
    assert waits == [9.0, 9.0] and client.requests == 3
    app.throttle(1, retry_after=3600)
    with pytest.raises(RemoteError, match="asks to wait 3600 s"):
        client.get("users/me/", what="checking")


def test_5xx_is_retried_then_named(fresh: tuple[SandboxServer, SdeApp]) -> None:
    server, app = fresh
    app.faults = Faults.parse("500:1.0")
    waits: list[float] = []
    client = SdeClient(settings(server.url, app.token("admin@example.com")), HttpFactory(), sleep=waits.append)
    with pytest.raises(RemoteError) as caught:
        client.get("users/me/", what="checking the token")
    assert caught.value.status == 500 and "HTTP 500" in caught.value.message and len(waits) == 4
    writes: list[float] = []
    client.sleep = writes.append
    with pytest.raises(RemoteError):  # a POST that may have been carried out is not sent again
        client.call("POST", "projects/1/tasks/1-T1/notes/", what="adding a note", body={"text": "x"})
    assert writes == []
    app.faults = None


def test_pull_maps_by_meaning_slug_and_int(sde_desc: dict[str, Any], sde_app: SdeApp) -> None:
    client = SdeClient(settings(sde_desc["url"], sde_desc["secrets"]["api_token"]), HttpFactory())
    pulled = pull_tasks(client, 1)
    server = sde_app.store.tasks[1]
    accepted = [t for t in server.values() if t["accepted"]]
    assert [r.task_id for r in pulled.rows] == [t["task_id"] for t in accepted] and not pulled.skipped
    meaning = {"TS1": "DONE", "TS2": "TODO", "TS3": "NA", "TS4": "NA"}
    by_id = {r.task_id: r for r in pulled.rows}
    for task in accepted:
        row = by_id[task["task_id"]]
        assert row.status == meaning[task["status"]] and row.phase == task["phase"]
        assert row.priority == task["priority"] and list(row.tags) == task["tags"]
    assert any(t["status"] == "TS4" for t in accepted)  # the custom status meaning NA is among them
    assert client.requests == 3  # project, statuses, one page of tasks
    with_all = pull_tasks(client, 1, include_unaccepted=True)
    assert with_all.unaccepted == sum(1 for t in server.values() if not t["accepted"]) > 0
    assert len(with_all.rows) == len(server)


def test_single_task_string_priority_and_status_ids(sde_desc: dict[str, Any], sde_app: SdeApp) -> None:
    client = SdeClient(settings(sde_desc["url"], sde_desc["secrets"]["api_token"]), HttpFactory())
    known = statuses(client)
    assert status_for("NA", known) == "TS3" and status_for("DONE", known) == "TS1"
    task = next(t for t in sde_app.store.tasks[1].values() if t["status"] == "TS4")
    row = read_task(client, 1, task["id"], {str(s["id"]): str(s["meaning"]) for s in known})
    assert row is not None and row.priority == task["priority"] and row.status == "NA"
    assert row.phase == task["phase"]


def test_unexpanded_list_maps_display_name_phase_and_status_id(sde_desc: dict[str, Any], sde_app: SdeApp) -> None:
    client = SdeClient(settings(sde_desc["url"], sde_desc["secrets"]["api_token"]), HttpFactory())
    known = {str(s["id"]): str(s["meaning"]) for s in statuses(client)}
    page = client.get("projects/1/tasks/", what="listing", params={"page_size": 200})["results"]
    assert {t["phase"] for t in page} >= {"Architecture and Design", "Requirements"}
    rows = [map_task(t, known) for t in page]
    server = sde_app.store.tasks[1]
    assert all(r is not None for r in rows)
    for raw, row in zip(page, rows, strict=True):
        assert row is not None and row.phase == server[raw["id"]]["phase"]
        assert row.status == {"TS1": "DONE", "TS2": "TODO", "TS3": "NA", "TS4": "NA"}[server[raw["id"]]["status"]]
    detail = client.get("projects/1/tasks/1-T21/", what="reading")
    assert isinstance(detail["priority"], str)
    mapped = map_task(detail, known)
    assert mapped is not None and mapped.priority == server["1-T21"]["priority"]
