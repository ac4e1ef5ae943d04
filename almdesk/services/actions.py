"""The jobs behind the toolbar: Test Connection, Gate, Create Defect — plain callables ``run(ctx)``.

Each factory takes plain settings and returns a callable; the CLI calls it through
:func:`almdesk.jobs.record.run_recorded`, the GUI through the same function in a worker thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select

from almdesk.base.records import CreatedItem, DefectRequest, GateItem, GateRequest, Step, StepResult
from almdesk.base.settings import ConnectionSettings, ConnectorSettings
from almdesk.errors import UserFacingError
from almdesk.jobs.context import Failure, JobContext, JobOutcome
from almdesk.models import Job, Store
from almdesk.net import diagnose
from almdesk.net.session import HttpFactory
from almdesk.systems.base import System

JobFn = Callable[[JobContext], JobOutcome]


def network_steps(url: str, connector: ConnectorSettings) -> list[Step]:
    """DNS / TCP / TLS / HTTP steps shared by every system."""
    return diagnose.network_steps(url, connector.network)


def run_steps(steps: list[Step], ctx: JobContext) -> list[StepResult]:
    """Run steps in order, stopping at the first failure; report each as an event as it ends."""
    results = [StepResult(s.key, s.title, "pending") for s in steps]
    for i, (step, result) in enumerate(zip(steps, results, strict=True)):
        ctx.check_cancelled()
        ctx.progress(i, len(steps), step.title)
        result.status = "running"
        ctx.event(step.title, f"step:{step.key}", "running", step=step.key)
        started = time.monotonic()
        try:
            detail = step.run()
            result.status = "warning" if detail.startswith("⚠") else "ok"
            result.detail = detail.lstrip("⚠ ")
        except UserFacingError as exc:
            result.status = "failed"
            result.detail = exc.message
            result.hint = exc.hint
            result.field = exc.field
            result.exit_code = exc.exit_code
        result.seconds = time.monotonic() - started
        ctx.event(step.title, f"step:{step.key}", result.status,
                  result.detail + (f" — {result.hint}" if result.hint else ""), step=step.key)
        if result.status == "failed":
            for rest in results[i + 1:]:
                rest.status = "skipped"
            break
    ctx.progress(len(steps), len(steps), "done")
    return results


def settings_step(system: System, connector: ConnectorSettings) -> Step:
    def check() -> str:
        missing = [f.label for f in system.connector_fields
                   if f.kind == "secret" and f.required and not connector.secret(f.name)]
        if missing:
            raise UserFacingError(f"{', '.join(missing)} not found in the keyring.",
                                  "Enter the secret again in the connector form and save.",
                                  field="secret")
        return f"{system.label} connector {connector.name!r}: settings complete"

    return Step("settings", "Check settings", check)


def test_job(system: System, connector: ConnectorSettings, connection: ConnectionSettings | None,
             http: HttpFactory, extra: Sequence[Step] = (), *, steps: list[Step] | None = None) -> JobFn:
    """Test Connection: the settings, ``extra`` local checks (e.g. the sync identity), the network, then
    the system's steps (``steps``: instead of them, e.g. with a bound project's)."""

    def run(ctx: JobContext) -> JobOutcome:
        http.add_secrets(connector.secrets.values())
        http.cancel = ctx.cancel_event
        checks = [settings_step(system, connector), *extra, *network_steps(system.base_url(connector), connector)]
        checks += system.test_steps(connector, connection, http) if steps is None else steps
        results = run_steps(checks, ctx)
        failed = next((r for r in results if r.status == "failed"), None)
        data: dict[str, Any] = {"requests": http.requests}
        if failed:
            failure = Failure(f"{failed.title} failed: {failed.detail}", failed.hint, failed.field,
                              failed.exit_code or 1)
            return JobOutcome(False, failure.message + (f" — {failed.hint}" if failed.hint else ""), data=data,
                              steps=results, failure=failure)
        target = f"connection {connection.alias!r}" if connection else f"connector {connector.name!r}"
        return JobOutcome(True, f"All {len(results)} checks passed for {target}.", data=data, steps=results)

    return run


@dataclass
class GateReport:
    """A gate that ran (passed or failed); a gate that could not run has a ``failure`` and no report."""

    count: int
    threshold: int
    operator: str
    query: str
    passed: bool
    requests: int
    items: list[GateItem]


def gate_job(system: System, connection: ConnectionSettings, request: GateRequest, http: HttpFactory) -> JobFn:
    def run(ctx: JobContext) -> JobOutcome:
        http.add_secrets(connection.connector.secrets.values())
        http.cancel = ctx.cancel_event
        result = system.gate(connection, request, http, ctx)
        items: list[GateItem] = []
        if result.items is not None:
            try:
                items = result.items(0, 50)
            except UserFacingError as exc:
                ctx.log(f"Could not list the matching items: {exc}", "warning")
        report = GateReport(result.count, result.threshold, result.operator, result.query, result.passed,
                            result.requests, items)
        ctx.event(result.query, "gate", "ok" if result.passed else "failed", result.message)
        return JobOutcome(result.passed, result.message, {"matching": result.count},
                          {**asdict(report), "outcome": "passed" if report.passed else "failed"}, payload=report)

    return run


def defect_job(system: System, connection: ConnectionSettings, request: DefectRequest, http: HttpFactory, *,
               idempotency_key: str = "", recorded: Callable[[str], CreatedItem | None] | None = None) -> JobFn:
    """Create Defect. With an ``idempotency_key`` (one per submitted form, the same on a retry) the job
    first asks ``recorded`` for the item an earlier job with that key created and, when there is one,
    returns it instead of creating a second; the key is kept in the job's data for the next look-up.
    (The look-up is almdesk's own record: no system lets a create carry a mark it could search by.)"""

    def run(ctx: JobContext) -> JobOutcome:
        marks = {"idempotency_key": idempotency_key} if idempotency_key else {}
        earlier = recorded(idempotency_key) if idempotency_key and recorded is not None else None
        if earlier is not None:
            ctx.event(earlier.key, "create", "ok", f"already created by an earlier attempt: {earlier.title}",
                      earlier.url, key=earlier.key)
            return JobOutcome(True, f"Already created {system.item_noun} {earlier.key}: {earlier.url}", {},
                              {"id": earlier.id, "key": earlier.key, "url": earlier.url, "title": earlier.title,
                               "reused": True, **marks}, payload=earlier)
        http.add_secrets(connection.connector.secrets.values())
        http.cancel = ctx.cancel_event
        item = system.create_defect(connection, request, http, ctx)
        ctx.event(item.key, "create", "ok", item.title or request.name, item.url, key=item.key)
        return JobOutcome(True, f"Created {system.item_noun} {item.key}: {item.url}", {"created": 1},
                          {"id": item.id, "key": item.key, "url": item.url, "title": item.title or request.name,
                           **marks}, payload=item)

    return run


def recorded_defects(store: Store) -> Callable[[str], CreatedItem | None]:
    """The look-up :func:`defect_job` asks: the item a succeeded defect job with this key created."""

    def find(key: str) -> CreatedItem | None:
        with store.session() as s:
            rows = s.execute(select(Job.data).where(Job.kind == "defect", Job.state == "succeeded")
                             .order_by(Job.id.desc()).limit(500)).scalars()
            for data in rows:
                if isinstance(data, dict) and data.get("idempotency_key") == key and data.get("key"):
                    return CreatedItem(str(data.get("id") or ""), str(data["key"]), str(data.get("url") or ""),
                                       str(data.get("title") or ""))
        return None

    return find
