"""Regressions for what the soaks found in other code (each fixed where it lives)."""

from __future__ import annotations

import threading
from pathlib import Path

from werkzeug.wrappers import Request, Response

from almdesk.base.failures import FateUnknown
from almdesk.base.records import ItemDraft, RemoteItem
from tests.soak.soaklib import SANDBOX_OPTIONS, SCOPE, set_timeout
from tests.sync.harness import Handler, SyncEnv, Target, intercept, make_registry


def test_github_create_that_timed_out_is_not_sent_again(tmp_path: Path) -> None:
    """Fault soak, GitHub: a POST slower than the timeout was looked for at once, not found (the server was
    still making it) and sent again — two issues. Now the create fails and the next sync finds it by title."""
    registry = make_registry()
    target = Target.start("github", registry, **SANDBOX_OPTIONS["github"])
    try:
        env = SyncEnv(tmp_path, target, registry)
        set_timeout(env, 1.0)
        alias = env.connection(env.project(), **SCOPE)
        posts: list[str] = []
        release = threading.Event()
        done = threading.Event()

        def slow_first_post(request: Request, call: Handler) -> Response:
            if request.method == "POST" and request.path.endswith("/issues"):
                posts.append(request.path)
                if len(posts) == 1:
                    # held until the client has given up (its 1 s read timeout) and looked for the issue;
                    # then the server still creates it
                    release.wait(10)
                    response = call(request)
                    done.set()
                    return response
            return call(request)

        intercept(target.app, slow_first_post)
        adapter = env.adapter(alias)
        fmt = env.title_format(alias)
        try:
            result = adapter.create_items([ItemDraft("T1", fmt.full("T1", "Slow"), "text", 8, [], False)])
        finally:
            adapter.close()
            release.set()
        assert isinstance(result[0], FateUnknown) and "may still create it" in result[0].message, result
        assert len(posts) == 1, "the create was sent again while the server was still making the first"
        assert done.wait(5)
        items = env.alm_items(alias)
        assert [len(v) for v in items.values()] == [1] and isinstance(items["T1"][0], RemoteItem)
    finally:
        target.stop()
