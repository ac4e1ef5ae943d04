"""The remote admin as jobs and table rows, for the GUI's Server page (which only draws them).

Each ``*_spec`` returns a :class:`~almdesk.jobs.record.JobSpec` the job runner runs in a worker
thread (progress, Cancel: a push stops before its next item, what was pushed stays recorded).
:func:`server_rows` puts the server's items beside the local ones; :func:`plan_rows` flattens a plan
(``Plan.as_dict()``, no secret values) into diff-table rows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from almdesk.config import Config
from almdesk.jobs.context import JobContext, JobOutcome
from almdesk.jobs.record import JobSpec
from almdesk.remote import items as rows
from almdesk.remote.check import server_test
from almdesk.remote.plan import build_plan
from almdesk.remote.pull import pull
from almdesk.remote.push import push

if TYPE_CHECKING:
    from almdesk.services import Services

JobFn = Callable[[JobContext], JobOutcome]


def sde_connectors(config: Config) -> list[str]:
    return [c.name for c in config.connectors() if c.system == "sdelements"]


def server_rows(config: Config, source: str) -> list[dict[str, Any]]:
    """One row per server item as last pulled (or pushed), beside the local item it mirrors."""
    sid = rows.source_id(config.store, source)
    locals_c = {c.id: c.name for c in config.connectors()}
    locals_n = {c.id: c.alias for c in config.connections()}
    out = []
    for item in rows.items(config.store, sid):
        local_id = item.connector_id if item.kind == "connector" else item.connection_id
        local = (locals_c if item.kind == "connector" else locals_n).get(local_id or 0, "")
        if item.read_only:
            state = f"read-only: {item.read_only}"
        elif not local and item.mirrored:
            state = "deleted here (push --delete removes it on the server)"
        else:
            state = "mirrored"
        last = item.server.get("last_job") or {}
        job = (("ok " if last.get("succeeded") else "failed ") + str(last.get("last_run") or "")[:16]) if last else ""
        out.append({"kind": item.kind, "server": f"{item.name} (#{item.server_id})", "system": item.system_id,
                    "local": local or "—", "state": state, "frequency": str(item.server.get("frequency") or ""),
                    "last_job": job, "in_progress": bool(item.server.get("in_progress")), "local_name": local})
    return out


def plan_rows(plan: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """(item, action, field, server, local) per changed field; one row for an item without fields."""
    out: list[tuple[str, str, str, str, str]] = []
    for change in plan.get("changes", []):
        item = f"{change['kind']} {change['name']}"
        fields = [f for f in change["fields"] if f.get("secret") or f.get("server") != f.get("local")]
        if change["action"] in ("unchanged", "read-only", "server-only") or not fields:
            out.append((item, change["action"], "", change.get("reason") or "", ""))
            continue
        for f in fields:
            if f.get("secret"):
                out.append((item, change["action"], f["field"], "(secret)", f"secret {f['change']}"))
            else:
                out.append((item, change["action"], f["field"], _text(f.get("server")), _text(f.get("local"))))
    return out


def _text(value: Any) -> str:
    return "(none)" if value is None else str(value)


def _with_client(services: Services, source: str, body: Callable[[Any, JobContext], JobOutcome]) -> JobFn:
    def run(ctx: JobContext) -> JobOutcome:
        client = services.sde_client(source)
        client.log, client.sleep = ctx.log, ctx.sleep
        try:
            return body(client, ctx)
        finally:
            client.close()

    return run


def _source_id(services: Services, source: str) -> int:
    return rows.source_id(services.store, source)


def pull_spec(services: Services, source: str) -> JobSpec:
    def body(client: Any, ctx: JobContext) -> JobOutcome:
        ctx.progress(0, 0, f"Reading {source}'s ALM connectors and connections")
        report = pull(services.config, source, client)
        return JobOutcome(not report.no_params, " ".join(report.lines()[:1]) + (
            f" {len(report.no_params)} came without params." if report.no_params else ""),
            {"created": len(report.created), "updated": len(report.updated), "read_only": len(report.read_only)},
            {"pull": report.as_dict()})

    return JobSpec("remote-pull", f"Pull from {source}", _with_client(services, source, body),
                   _source_id(services, source))


def plan_spec(services: Services, source: str) -> JobSpec:
    def body(client: Any, ctx: JobContext) -> JobOutcome:
        ctx.progress(0, 0, "Comparing with the server")
        plan = build_plan(services.config, source, client)
        return JobOutcome(True, plan.lines()[-1], {"pending": len(plan.pending)}, {"plan": plan.as_dict()})

    return JobSpec("remote-plan", f"Plan for {source}", _with_client(services, source, body),
                   _source_id(services, source))


def push_spec(services: Services, source: str, *, only: set[str] | None = None, delete: bool = False) -> JobSpec:
    def body(client: Any, ctx: JobContext) -> JobOutcome:
        def progress(done: int, total: int, text: str) -> None:
            ctx.check_cancelled()  # before the next item: what was pushed stays recorded
            ctx.progress(done, total, text)

        report = push(services.config, source, client, only=only, delete=delete, progress=progress)
        for done in report.done:
            ctx.event(done, "push", "ok")
        if report.error is not None:
            ctx.event(report.failed, "push", "failed", report.error.message)
        plan = build_plan(services.config, source, client)
        message = report.lines()[-1] + (f" {report.error.message}" if report.error else "")
        return JobOutcome(report.error is None, message, {"pushed": len(report.done), "left": len(report.left)},
                          {"push": report.as_dict(), "plan": plan.as_dict()})

    return JobSpec("remote-push", f"Push to {source}", _with_client(services, source, body),
                   _source_id(services, source))


def server_test_spec(services: Services, source: str, name: str) -> JobSpec:
    def body(client: Any, ctx: JobContext) -> JobOutcome:
        result = server_test(services.config, source, client, name)
        ctx.event(name, "server test", "ok" if result.success else "failed", result.detail)
        return JobOutcome(result.success, f"Server test of {name}: {result.detail}.", data={"server": result.as_dict()})

    return JobSpec("remote-test", f"Test {name} on {source}", _with_client(services, source, body),
                   _source_id(services, source))
