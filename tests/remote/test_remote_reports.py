"""Job reports over real HTTP: a desktop run of a mirrored connection lands in the server's ALM job
history once — also when the server is down as the job ends (queued, then sent when it is back), and
not again when almdesk lost track of a POST that did land. The server's columns in ``connection list``."""

from __future__ import annotations

from sqlalchemy import select

from almdesk.models import JobReport
from tests.remote.conftest import Env


def _server_jobs(env: Env, connection: int = 5) -> list[dict]:
    return [j for j in env.app.store.jobs.values() if j["connection"] == connection]


def test_a_desktop_run_is_reported_once_even_with_the_server_down_when_it_ends(env: Env) -> None:
    assert env.cli("remote", "pull", "SDE")[0] == 0
    assert _server_jobs(env) == []
    code, doc, _ = env.cli("connection", "test", "Example Connection")
    assert code != 0  # the Jira it points at is a closed port
    jobs = _server_jobs(env)
    assert len(jobs) == 1 and jobs[0]["succeeded"] is False and jobs[0]["completed"] is True
    assert jobs[0]["result_message"].startswith("test-connection: ")
    assert f"[almdesk job {doc['result']['job_id']} · " in jobs[0]["result_message"]
    # the server is down when the next run ends: the report waits in the store
    env.server.stop()
    code, doc, _ = env.cli("connection", "test", "Example Connection")
    second_job = doc["result"]["job_id"]
    with env.services.store.session() as s:
        waiting = s.scalar(select(JobReport).where(JobReport.job_id == second_job))
        assert waiting is not None and waiting.state in ("queued", "sending") and waiting.last_error
    env.restart()
    code, doc, _ = env.cli("remote", "reports", "SDE")
    assert code == 0 and doc["result"]["sent"] == 1 and doc["result"]["pending"] == []
    assert len(_server_jobs(env)) == 2
    assert env.cli("remote", "reports", "SDE")[1]["result"]["sent"] == 0
    assert len(_server_jobs(env)) == 2
    # a POST that landed but was never marked sent (almdesk killed in between) is found, not resent
    with env.services.store.session() as s:
        row = s.scalar(select(JobReport).where(JobReport.job_id == second_job))
        assert row is not None and row.state == "sent"
        row.state = "sending"
    code, doc, _ = env.cli("remote", "reports", "SDE")
    assert doc["result"]["already"] == 1 and len(_server_jobs(env)) == 2


def test_connection_list_shows_the_server_s_last_job_frequency_and_progress(env: Env) -> None:
    assert env.cli("remote", "pull", "SDE")[0] == 0
    env.cli("connection", "test", "Example Connection")
    env.app.store.connections[5]["in_progress"] = True
    assert env.cli("remote", "pull", "SDE")[0] == 0
    code, text = env.plain("connection", "list")
    assert code == 0
    line = next(x for x in text.splitlines() if x.startswith("Example Connection"))
    assert "server #5: hourly, last job failed" in line and "(test-connection: " in line and "in progress" in line
    _code, doc, _ = env.cli("connection", "list")
    row = doc["result"][0]
    assert row["server"]["frequency"] == "hourly" and row["server"]["in_progress"] is True
    assert row["server"]["last_job"]["succeeded"] is False


def test_runs_of_connections_that_mirror_nothing_are_not_reported(env: Env) -> None:
    assert env.cli("remote", "pull", "SDE")[0] == 0
    cfg = env.services.config
    cfg.save_connection("local only", "JIRA Example Connector", cfg.connection("Example Connection").project,
                        {"alm_project": "LOCAL"})
    before = len(env.app.store.jobs)
    env.cli("connection", "test", "local only")
    assert len(env.app.store.jobs) == before


def test_a_sync_of_a_mirrored_bound_connection_is_reported_once(env: Env) -> None:
    """The bound project's sync reports through the queue only (the write-back's direct report is skipped)."""
    from almdesk.sandbox.base import serve
    from almdesk.sandbox.jira import create as jira_sandbox

    assert env.cli("remote", "pull", "SDE")[0] == 0
    jira = serve(jira_sandbox(seed=3))
    try:
        info = jira.describe()
        cfg = env.services.config
        local = cfg.connector("JIRA Example Connector")
        cfg.save_connector(local.name, "jira", info["params"], info["secrets"], local.network, connector_id=local.id)
        conn = cfg.connection("Example Connection")
        cfg.save_connection(conn.alias, conn.connector, conn.project,
                            {**conn.params, "alm_project": "DEMO", "alm_parent_issue": "", "sde_min_priority": 9},
                            frequency=conn.frequency, debug_mode=False, connection_id=conn.id)
        code, doc, _ = env.cli("sync", "Example Connection")
        assert code == 0, doc
    finally:
        jira.stop()
    jobs = _server_jobs(env)
    assert len(jobs) == 1 and jobs[0]["succeeded"] is True
    assert jobs[0]["result_message"].startswith("sync: ") and f"[almdesk job {doc['result']['job_id']} · " in \
        jobs[0]["result_message"]
