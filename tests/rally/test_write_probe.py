"""Test Connection proves a Rally key may write, without leaving anything behind: a full key passes
the write step, a read-only key (reads work, Rally refuses writes) fails exactly there, named."""

from __future__ import annotations

from dataclasses import replace

from almdesk.base.settings import ConnectionSettings, ConnectorSettings
from almdesk.jobs.context import JobContext
from almdesk.net.session import HttpFactory
from almdesk.sandbox.rally.app import RallyApp
from almdesk.services.actions import run_steps
from almdesk.systems.rally import SYSTEM


def _results(connector: ConnectorSettings, connection: ConnectionSettings) -> dict[str, tuple[str, str, str]]:
    results = run_steps(SYSTEM.test_steps(connector, connection, HttpFactory(retries=0)), JobContext())
    return {r.key: (r.status, r.detail, r.field or "") for r in results}


def test_a_full_key_may_write_and_nothing_is_left(rally_app: RallyApp, connector: ConnectorSettings,
                                                  connection: ConnectionSettings) -> None:
    before = len(rally_app.store.by_type["Defect"])
    results = _results(connector, connection)
    assert results["rally_write"][0] == "ok" and "nothing was created" in results["rally_write"][1]
    assert all(status in ("ok", "warning") for status, _, _ in results.values()), results
    assert len(rally_app.store.by_type["Defect"]) == before


def test_a_read_only_key_fails_at_the_write_step(rally_app: RallyApp, connector: ConnectorSettings,
                                                 connection: ConnectionSettings) -> None:
    read_only = replace(connector, secrets={"alm_api_key": rally_app.info.admin_read_only_key}, params={
        **connector.params, "alm_user": ""})
    before = len(rally_app.store.by_type["Defect"])
    results = _results(read_only, replace(connection, connector=read_only))
    assert results["rally_auth"][0] == "ok"  # the key reads fine: only a write tells
    status, detail, fld = results["rally_write"]
    assert status == "failed" and "read-only" in detail and fld == "alm_api_key"
    assert len(rally_app.store.by_type["Defect"]) == before
