"""Rate limits: paced writes stay under the strict sandbox's secondary limit; limited answers are waited out
(and said in the job log); reading the limit headers; the hourly write cap.

The strict sandbox's "minute" is shortened to one second so 200 creations take seconds, and the
connector's pause is scaled the same way (GitHub: 80 writes a minute, almdesk's default pause 800 ms
gives 75 a minute; here 80 a second and 16 ms, at most 62 a second, which leaves room for the
timing noise of a loaded test machine).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from almdesk.base.records import ItemDraft, RemoteItem
from almdesk.jobs.context import JobContext
from almdesk.net.session import HttpFactory
from almdesk.sandbox.base import serve
from almdesk.sandbox.github import create
from almdesk.systems.github import SYSTEM
from almdesk.systems.github.client import RateLimited
from almdesk.systems.github.ratelimit import WriteLimiter, is_limited, limit_wait
from tests.clock import ManualClock
from tests.github.conftest import make_connection, make_connector


def drafts(count: int) -> list[ItemDraft]:
    return [ItemDraft(f"T{900 + i}", f"T{900 + i}: paced {i}", "text", 5, [], False) for i in range(count)]


def create_all(adapter: Any, items: list[ItemDraft]) -> list[Any]:
    results: list[Any] = []
    for start in range(0, len(items), adapter.bulk_size):
        results += adapter.create_items(items[start:start + adapter.bulk_size])
    return results


class ClockSleep(JobContext):
    """A job context whose waits move the sandbox's limit clock by what GitHub asked, at once."""

    def __init__(self, clock: ManualClock) -> None:
        super().__init__()
        self.clock = clock
        self.waits: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.check_cancelled()
        self.waits.append(seconds)
        self.clock.advance(seconds)


def test_paced_client_completes_200_creations_under_the_secondary_limit() -> None:
    app = create(seed=1, issues=5, strict_rate_limits=True, secondary_minute=1.0)
    with serve(app) as server:
        info = server.describe()
        ctx = JobContext()
        conn = make_connection(make_connector(info, github_write_pace_ms=16), info)
        adapter = SYSTEM.sync_adapter(conn, HttpFactory(), ctx)
        adapter.prepare()
        results = create_all(adapter, drafts(200))
    assert all(isinstance(r, RemoteItem) for r in results)
    assert app.limits.rejected == 0  # never over 80 writes in a sandbox minute: the pacing kept the rate
    assert not [line for _, line in ctx.lines if "rate limit" in line]
    limiter = adapter.client.limiter
    assert limiter.writes == 200 and limiter.paced_seconds > 0


def test_unpaced_client_waits_out_the_secondary_limit_and_says_so() -> None:
    app = create(seed=1, issues=5, strict_rate_limits=True, secondary_minute=1.0)
    with serve(app) as server:
        info = server.describe()
        ctx = JobContext()
        conn = make_connection(make_connector(info, github_write_pace_ms=0), info)
        adapter = SYSTEM.sync_adapter(conn, HttpFactory(), ctx)
        adapter.prepare()
        results = create_all(adapter, drafts(100))
    assert all(isinstance(r, RemoteItem) for r in results)
    assert app.limits.rejected >= 1
    waits = [line for level, line in ctx.lines if "secondary rate limit" in line and level == "warning"]
    assert waits and "waiting 1 s" in waits[0] and "from retry-after" in waits[0]


def test_429_secondary_status_is_handled_too() -> None:
    app = create(seed=1, issues=5, strict_rate_limits=True, secondary_minute=1.0, secondary_status=429)
    with serve(app) as server:
        info = server.describe()
        ctx = JobContext()
        adapter = SYSTEM.sync_adapter(make_connection(make_connector(info), info), HttpFactory(), ctx)
        adapter.prepare()
        results = create_all(adapter, drafts(85))
    assert all(isinstance(r, RemoteItem) for r in results) and app.limits.rejected >= 1


def test_primary_limit_waits_until_reset() -> None:
    app = create(seed=2, issues=150, primary_limit=1, primary_window=1.0)
    with serve(app) as server:
        info = server.describe()
        ctx = JobContext()
        adapter = SYSTEM.sync_adapter(make_connection(make_connector(info), info), HttpFactory(), ctx)
        adapter.prepare()
        items = list(adapter.iter_items())
    assert items
    waits = [line for _, line in ctx.lines if "primary rate limit" in line]
    assert waits and "from x-ratelimit-reset" in waits[0]


def test_primary_limit_too_far_away_fails_with_the_reset_time() -> None:
    app = create(seed=2, issues=5, primary_limit=2)
    with serve(app) as server:
        info = server.describe()
        ctx = ClockSleep(ManualClock())
        adapter = SYSTEM.sync_adapter(make_connection(make_connector(info), info), HttpFactory(), ctx)
        adapter.prepare()  # uses one request
        list(adapter.iter_items())  # the second
        with pytest.raises(RateLimited) as caught:
            list(adapter.iter_items())
        assert ctx.waits == []  # an hour away: it fails at once instead of waiting
    assert "primary rate limit" in caught.value.message and "until about" in caught.value.message
    hint = caught.value.hint
    assert "requests an hour" in hint and "between writes" not in hint  # pacing writes does not help here


def response(status: int, headers: dict[str, str] | None = None, body: Any = None) -> requests.Response:
    resp = requests.Response()
    resp.status_code = status
    resp.headers.update(headers or {})
    resp._content = json.dumps(body or {}).encode()
    return resp


def test_reading_limited_responses() -> None:
    now = 1_000_000.0
    assert limit_wait(response(403, body={"message": "Resource not accessible by personal access token"})) is None
    assert not is_limited(response(404))
    after = limit_wait(response(403, {"retry-after": "7"}, {"message": "You have exceeded a secondary rate limit"}))
    assert after is not None and (after.seconds, after.kind, after.source) == (7, "secondary", "retry-after")
    reset = limit_wait(response(403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(now) + 30)},
                                {"message": "API rate limit exceeded for user ID 1."}), now=lambda: now)
    assert reset is not None and (reset.seconds, reset.kind) == (31, "primary")
    bare = [limit_wait(response(403, body={"message": "You have exceeded a secondary rate limit."}), repeat=n)
            for n in (0, 1, 2)]
    assert [w.seconds for w in bare if w] == [60, 120, 240]
    throttled = limit_wait(response(429, {"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}))
    assert throttled is not None and throttled.kind == "throttled" and throttled.seconds == 1.0


def test_write_limiter_hourly_cap() -> None:
    slept: list[float] = []
    logged: list[str] = []
    limiter = WriteLimiter(0.0, per_hour=3, hour=30.0, sleep=slept.append, log=logged.append)
    for _ in range(3):
        limiter.wait()
    assert slept == []
    limiter.wait()
    assert len(slept) == 1 and 29 < slept[0] <= 30 and "3 writes in the last hour" in logged[0]


def test_many_limited_requests_in_one_job_do_not_give_up() -> None:
    app = create(seed=1, issues=5, strict_rate_limits=True)
    app.limits.per_minute = 5
    clock = ManualClock()
    app.limits.monotonic = clock
    with serve(app) as server:
        info = server.describe()
        ctx = ClockSleep(clock)
        adapter = SYSTEM.sync_adapter(make_connection(make_connector(info), info), HttpFactory(), ctx)
        adapter.prepare()
        results = create_all(adapter, drafts(40))
    assert all(isinstance(r, RemoteItem) for r in results)
    assert ctx.waits and min(ctx.waits) > 0
    assert app.limits.rejected > 6  # more waits than one request may make, spread over the job
