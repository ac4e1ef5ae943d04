"""Write-back to SD Elements over real HTTP (SD Elements and Jira sandboxes, real store and keyring):
references once per item, never duplicated; the ALM's status written back with a note naming the
item; links taken from the server's references before any title look-up; the dry run's planned
write-backs; and a sync SIGKILLed between the ALM write and the SD Elements write finishing it on
resume."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import pytest
from werkzeug.wrappers import Request, Response

from almdesk.models import SourceReference, SourceTask, Task
from almdesk.services import Services
from almdesk.systems.registry import Registry
from tests.sdelements.bound import Bound, bound


def in_scope(env: Bound) -> list[dict]:  # type: ignore[type-arg]
    """The server tasks the default scope creates items for (accepted, TODO, phase ∈ default phases, ≥ 7)."""
    phases = {"requirements", "architecture-design", "development"}
    return [t for t in env.app.store.tasks[1].values() if t["accepted"] and t["status"] == "TS2"
            and t["phase"] in phases and t["priority"] >= 7]


def test_references_once_then_status_back(services: Services) -> None:
    with bound(services) as env:
        first = env.sync()
        assert first.state == "succeeded", first.outcome.message
        wanted = in_scope(env)
        counts = first.outcome.counts
        assert counts["created"] + counts["linked"] == len(wanted) > 0, counts
        assert first.outcome.data["write_back"] == {"statuses": 0, "references": len(wanted), "failed": 0}
        task = wanted[0]
        refs = env.references(task["id"])
        assert len(refs) == 1 and refs[0]["alm_connection"] == env.server_connection
        item = next(i for i in env.jira_items() if i.ref == refs[0]["reference"])
        assert refs[0]["name"] == item.key and refs[0]["link"] == item.url
        assert env.app.store.tasks[1][task["id"]]["artifact_proxy"] == item.key
        jobs = env.api("GET", "jobs/alm/", params={"connection": env.server_connection}).json()["results"]
        assert jobs[-1]["succeeded"] is True and "Synced" in jobs[-1]["result_message"]

        again = env.sync()
        assert again.outcome.data["write_back"] == {"statuses": 0, "references": 0, "failed": 0}
        assert all(len(env.references(t["id"])) == 1 for t in wanted)

        env.set_jira_done(item)  # the ALM moves on; conflict_policy alm: the ALM's status wins
        third = env.sync()
        assert third.outcome.counts["local_updated"] == 1 and third.outcome.data["write_back"]["statuses"] == 1
        server = env.app.store.tasks[1][task["id"]]
        assert server["status"] == "TS1"
        notes = env.app.store.notes[task["id"]]
        assert len(notes) == 1 and item.key in notes[0]["text"] and notes[0]["status_change"]
        fourth = env.sync()  # nothing left: no second note, the refresh agrees with the store
        assert fourth.outcome.data["write_back"]["statuses"] == 0 and len(env.app.store.notes[task["id"]]) == 1


def test_dry_run_plans_write_backs(services: Services) -> None:
    with bound(services) as env:
        dry = env.sync(dry_run=True)
        assert dry.state == "succeeded"
        creates = {r["task_id"] for r in dry.outcome.data["plan"] if r["action"] == "create"}
        refs = {r["task_id"] for r in dry.outcome.data["plan"] if r["action"] == "sde-reference"}
        assert creates and refs == creates  # each item to create will be recorded as a reference
        assert all(len(env.references(t["id"])) == 0 for t in in_scope(env))  # nothing was written
        env.sync()
        item = env.jira_items()[0]
        env.set_jira_done(item)
        dry = env.sync(dry_run=True)
        status_rows = [r for r in dry.outcome.data["plan"] if r["action"] == "sde-status"]
        assert len(status_rows) == 1 and status_rows[0]["alm_key"] == item.key
        assert all(t["status"] != "TS1" for t in in_scope(env))  # nothing was written


def test_server_references_come_before_titles(services: Services, tmp_path: Path) -> None:
    with bound(services) as env:
        assert env.sync().state == "succeeded"
        created = len(in_scope(env))
        # another desk, a fresh store: the links come from the server's task references
        registry = Registry.default()
        other = Services.open(tmp_path / "other", registry=registry, secrets=services.secrets)
        try:
            desc = env.sde.describe()
            other.config.save_connector("sde", "sdelements", desc["params"], desc["secrets"])
            pid = other.config.add_project("Shop")
            from almdesk.sources import bind_project

            bind_project(other.store, other.registry, pid, "sde", 1)
            info = env.jira.describe()
            other.config.save_connector("jira", "jira", info["params"], info["secrets"])
            other.config.save_connection("shop-jira", "jira", "Shop", info["connection_params"])
            result = other.run(other.sync_spec("shop-jira"))
            assert result.state == "succeeded", result.outcome.message
            counts = result.outcome.counts
            assert counts["created"] == 0 and counts["linked"] == 0 and counts["unchanged"] == created
            with other.store.session() as s:
                assert s.query(SourceReference).count() == created
        finally:
            other.close()


def _kill_at(env: Bound, method: str, fragment: str, when: str) -> dict[str, object]:
    """Route the SD Elements sandbox so the first ``method`` request to a path containing ``fragment``
    SIGKILLs the running child, before the server handles it or after."""
    state: dict[str, object] = {"pid": 0, "fired": False}
    lock = threading.Lock()
    original = env.app.dispatch

    def dispatch(request: Request) -> Response:
        with lock:
            fire = (not state["fired"] and bool(state["pid"]) and request.method == method
                    and fragment in request.path)
            if fire:
                state["fired"] = True
        if fire and when == "before":
            import os

            os.kill(int(state["pid"]), signal.SIGKILL)  # type: ignore[call-overload]
            return Response("gone", status=503)
        response = original(request)
        if fire:
            import os

            os.kill(int(state["pid"]), signal.SIGKILL)  # type: ignore[call-overload]
        return response

    env.app.dispatch = dispatch  # type: ignore[method-assign]
    return state


@pytest.mark.parametrize("when", ["before", "after"])
def test_sigkill_between_alm_and_sde_writes_resumes(services: Services, when: str) -> None:
    with bound(services) as env:
        # references: the items were created in Jira, then the child dies at the first reference POST,
        # before the server takes it (nothing written) or after (written, its answer lost)
        state = _kill_at(env, "POST", "/references/", when)
        proc, secrets = env.child()
        state["pid"] = proc.pid
        proc.communicate(secrets, timeout=120)
        assert state["fired"] and proc.returncode == -signal.SIGKILL
        wanted = in_scope(env)
        with services.store.session() as s:
            assert s.query(SourceReference).count() == 0  # the landed reference was not remembered
        resumed = env.sync()
        assert resumed.state == "succeeded", resumed.outcome.message
        assert resumed.outcome.counts["created"] == 0  # the ALM items of the killed run were found
        assert all(len(env.references(t["id"])) == 1 for t in wanted)  # none duplicated, none missing

        # status: the ALM's change is settled locally, then the child dies before the PATCH reaches SDE
        target = wanted[0]
        item = next(i for i in env.jira_items() if i.ref == env.references(target["id"])[0]["reference"])
        env.set_jira_done(item)
        state = _kill_at(env, "PATCH", f"/tasks/{target['id']}/", "before")
        proc, secrets = env.child()
        state["pid"] = proc.pid
        proc.communicate(secrets, timeout=120)
        assert state["fired"] and proc.returncode == -signal.SIGKILL
        assert env.app.store.tasks[1][target["id"]]["status"] == "TS2"  # not written yet
        with services.store.session() as s:
            pk = s.query(Task.id).filter(Task.task_id == target["task_id"]).scalar()
            assert s.get(Task, pk).status == "DONE"  # type: ignore[union-attr]
            assert s.query(SourceTask).filter(SourceTask.task_pk == pk).one().sent_status == "DONE"
        final = env.sync()  # the refresh keeps the settled status; the write-back finishes it
        assert final.state == "succeeded", final.outcome.message
        assert final.outcome.data["write_back"]["statuses"] == 1
        assert env.app.store.tasks[1][target["id"]]["status"] == "TS1"
        assert len(env.app.store.notes.get(target["id"], [])) == 1


def test_sigkill_after_the_status_write_sends_no_second_note(services: Services) -> None:
    with bound(services) as env:
        assert env.sync().state == "succeeded"
        target = in_scope(env)[1]
        item = next(i for i in env.jira_items() if i.ref == env.references(target["id"])[0]["reference"])
        env.set_jira_done(item)
        state = _kill_at(env, "PATCH", f"/tasks/{target['id']}/", "after")  # landed, answer lost
        proc, secrets = env.child()
        state["pid"] = proc.pid
        proc.communicate(secrets, timeout=120)
        assert state["fired"] and proc.returncode == -signal.SIGKILL
        assert env.app.store.tasks[1][target["id"]]["status"] == "TS1"
        final = env.sync()
        assert final.state == "succeeded", final.outcome.message
        assert final.outcome.data["write_back"]["statuses"] == 0
        assert len(env.app.store.notes[target["id"]]) == 1


def test_connection_test_checks_the_sde_side(services: Services) -> None:
    with bound(services) as env:
        result = services.run(services.test_spec(connection="shop-jira"))
        assert result.state == "succeeded", result.outcome.message
        keys = [s["key"] for s in result.outcome.data["steps"]]
        assert keys[-5:] == ["sde-api", "sde-token", "sde-version", "sde-project", "sde-permissions"]
        env.app.store.users[0].role = "PR5"  # the token's user loses sync_with_alm on the project
        failed = services.run(services.test_spec(connection="shop-jira"))
        bad = [s for s in failed.outcome.data["steps"] if s["status"] == "failed"]
        assert failed.state == "failed" and [s["key"] for s in bad] == ["sde-permissions"]
        assert "sync_with_alm" in bad[0]["detail"]
