"""The sandboxes' latency model, concurrency counters and counters endpoint, in process and through
``almdesk sandbox --latency --server-cost``. Waits are real server-side sleeps; the tests assert what
was counted (requests, waits, items, refusals), never how long anything took."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import pytest
import requests

from almdesk import sandbox
from almdesk.sandbox.base import COUNTERS_PATH, Concurrency, Latency, Limit, serve


def test_latency_and_server_cost_are_charged_per_answer_and_per_item() -> None:
    app = sandbox.create("jira", issues=3, rate_limit=None)
    server = serve(app, latency=0.01, server_cost=0.002)
    try:
        info = server.describe()
        s = requests.Session()
        s.auth = (info["params"]["user"], info["secrets"]["token"])
        assert s.get(f"{server.url}/rest/api/3/myself", timeout=10).status_code == 200
        updates = [{"fields": {"project": {"key": "DEMO"}, "issuetype": {"name": "Task"}, "summary": f"bulk {n}"}}
                   for n in range(5)]
        assert s.post(f"{server.url}/rest/api/3/issue/bulk", json={"issueUpdates": updates},
                      timeout=10).status_code == 201
        counters = requests.get(server.url + COUNTERS_PATH, timeout=10).json()
    finally:
        server.stop()
    assert counters["requests"] == 2 and counters["statuses"] == {"200": 1, "201": 1}
    assert counters["bulk_items"] == 5
    assert counters["latency"] == 0.01 and counters["server_cost"] == 0.002
    assert counters["waited_seconds"] == pytest.approx(2 * 0.01 + 5 * 0.002)  # what was slept, summed
    assert counters["concurrency"]["max_in_flight"]["all"]


def test_start_passes_the_latency_to_every_sandbox() -> None:
    servers = sandbox.start(["github", "rally"], latency=0.005, server_cost=0.001, issues=5, items=4)
    try:
        for server in servers:
            assert server.app.latency == Latency(0.005, 0.001)
            assert server.counters()["latency"] == 0.005
    finally:
        for server in servers:
            server.stop()
    with pytest.raises(ValueError):
        Latency(-1)


def test_a_waiting_limit_keeps_one_caller_under_it_and_a_refusing_one_counts_refusals() -> None:
    """The Concurrency counter alone, driven by threads that hold their slot until told to leave."""
    limits = Concurrency([Limit("wait", 2, refuse=False), Limit("writes", 1, methods=frozenset({"POST"}))])
    inside = threading.Semaphore(0)
    leave = threading.Event()
    refused: list[str | None] = []

    def hold(method: str) -> None:
        with limits.slot("alice", method) as limit:
            refused.append(limit.name if limit else None)
            inside.release()
            leave.wait(10)

    first = [threading.Thread(target=hold, args=("GET",)) for _ in range(2)]
    for t in first:
        t.start()
    for _ in first:
        inside.acquire(timeout=10)
    late = threading.Thread(target=hold, args=("GET",))  # a third GET waits for a slot
    late.start()
    with limits.slot("bob", "GET") as limit:  # another caller is not limited by alice
        assert limit is None
    leave.set()
    for t in (*first, late):
        t.join(10)
    assert limits.waited["wait"] == 1 and limits.peak("wait") == 2
    leave.clear()
    writer = threading.Thread(target=hold, args=("POST",))
    writer.start()
    inside.acquire(timeout=10)
    inside.acquire(timeout=10)
    with limits.slot("alice", "POST") as limit:  # a second concurrent write is refused
        assert limit is not None and limit.name == "writes"
    leave.set()
    writer.join(10)
    assert limits.refused == {"writes": 1} and limits.peak("writes") == 1
    assert limits.snapshot()["in_flight"]["all"] == {"alice": 0, "bob": 0}


def test_cli_sandbox_takes_latency_and_server_cost() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "almdesk.cli", "sandbox", "--only", "octane", "--port", "0",
                             "--latency", "0.003", "--server-cost", "0.001"], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        described = json.loads(proc.stdout.readline())
        counters = sandbox.read_counters(described["url"])
        assert counters["system"] == "octane" and counters["latency"] == 0.003 and counters["server_cost"] == 0.001
        assert requests.get(described["url"] + "/admin/server/version", timeout=10).status_code == 200
        after = requests.get(described["url"] + COUNTERS_PATH, timeout=10).json()
        assert after["requests"] == counters["requests"] + 1  # the counters endpoint does not count itself
    finally:
        proc.terminate()
        proc.wait(10)
    bad = subprocess.run([sys.executable, "-m", "almdesk.cli", "sandbox", "--latency", "-1"], capture_output=True,
                         text=True, timeout=60)
    assert bad.returncode != 0 and "--latency" in bad.stderr + bad.stdout
