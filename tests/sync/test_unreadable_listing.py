"""A broken listing is never read as empty: when the item listing comes back with HTTP 200 but a null,
missing or wrong-typed list (or an item whose title is not text), the sync stops before creating
anything, says which answer and why in words (no Python exception names), and creates no duplicate —
with and without stored links. The next sync with a sound listing goes on cleanly.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.wrappers import Request, Response

from tests.sync.harness import Handler, SyncEnv, Target, intercept, make_registry, tasks

Spoil = Callable[[Any], None]  # changes a listing's JSON document in place


def _jira_null(doc: Any) -> None:
    doc["issues"] = None


def _jira_missing(doc: Any) -> None:
    del doc["issues"]


def _jira_number_title(doc: Any) -> None:
    doc["issues"][0]["fields"]["summary"] = 5


def _github_null_title(doc: Any) -> None:
    doc[0]["title"] = None


def _rally_null(doc: Any) -> None:
    doc["QueryResult"]["Results"] = None


def _octane_null(doc: Any) -> None:
    doc["data"] = None


def _octane_number_name(doc: Any) -> None:
    doc["data"][0]["name"] = 7


def _listing(system: str, request: Request) -> bool:
    path = request.path
    if request.method != "GET" and not (system == "jira" and path.endswith("/search/jql")):
        return False
    if system == "jira":
        return path.endswith("/search/jql") or path.endswith("/search")
    if system == "github":
        return path.endswith("/issues") and "/repos/" in path
    if system == "rally":
        return path.lower().endswith("/hierarchicalrequirement")
    return path.endswith("/defects")  # octane


CASES = [("jira", "issues null", _jira_null), ("jira", "issues missing", _jira_missing),
         ("jira", "summary a number", _jira_number_title), ("github", "title null", _github_null_title),
         ("rally", "Results null", _rally_null), ("octane", "data null", _octane_null),
         ("octane", "name a number", _octane_number_name)]


@pytest.fixture
def env_for(tmp_path: Path) -> Iterator[Callable[[str], SyncEnv]]:
    started: list[Target] = []

    def make(system: str) -> SyncEnv:
        registry = make_registry()
        started.append(Target.start(system, registry, seed=4))
        return SyncEnv(tmp_path / system, started[-1], registry)

    yield make
    for t in started:
        t.stop()


def spoiling(system: str, spoil: Spoil, hits: list[str]) -> Callable[[Request, Handler], Response]:
    def hook(request: Request, original: Handler) -> Response:
        response = original(request)
        if response.status_code != 200 or not _listing(system, request):
            return response
        doc = json.loads(response.get_data())
        try:
            spoil(doc)
        except (IndexError, KeyError, TypeError):  # an empty page: nothing to spoil in it
            return response
        hits.append(request.path)
        response.set_data(json.dumps(doc).encode())
        return response
    return hook


@pytest.mark.parametrize("linked", [False, True], ids=["no-links", "links-stored"])
@pytest.mark.parametrize(("system", "what", "spoil"), CASES, ids=[f"{s}-{w}" for s, w, _ in CASES])
def test_an_unreadable_listing_stops_the_sync_before_creating(env_for: Callable[[str], SyncEnv], system: str,
                                                               what: str, spoil: Spoil, linked: bool) -> None:
    env = env_for(system)
    project = env.project(tasks("T1", "T2", "T3", "T4", "T5"))
    alias = env.connection(project)
    if linked:
        first = env.sync(alias)
        assert first.state == "succeeded", first.outcome.message
    before = {tid: len(items) for tid, items in env.alm_items(alias).items()}
    original = env.target.app.dispatch
    hits: list[str] = []
    intercept(env.target.app, spoiling(system, spoil, hits))
    result = env.sync(alias)
    env.target.app.dispatch = original  # type: ignore[method-assign]
    assert hits, "the listing was never spoiled: the test did not test anything"
    assert result.state == "failed", result.outcome.message
    message = result.outcome.message
    assert "list" in message.lower() or "answer" in message.lower(), message
    assert not any(name in message for name in ("Error at", "AttributeError", "TypeError", "KeyError", ".py")), message
    after = {tid: len(items) for tid, items in env.alm_items(alias).items()}
    assert after == before  # nothing created: no duplicate, nothing lost
    again = env.sync(alias)  # a sound listing: the sync goes on
    assert again.state == "succeeded", again.outcome.message
    final = env.alm_items(alias)
    assert sorted(final) == ["T1", "T2", "T3", "T4", "T5"] and all(len(v) == 1 for v in final.values()), final


def _drop_t1(system: str) -> Spoil:
    """A sound-looking listing that leaves task T1's item out once (a cut page, a lagging index);
    asked for directly afterwards, the server answers with it."""
    done: list[bool] = []

    def title(item: dict[str, Any]) -> str:
        if system == "jira":
            return str((item.get("fields") or {}).get("summary"))
        return str(item.get({"github": "title", "rally": "Name"}.get(system, "name")))

    def spoil(doc: Any) -> None:
        items = {"github": lambda d: d, "rally": lambda d: d["QueryResult"]["Results"],
                 "octane": lambda d: d["data"], "jira": lambda d: d["issues"]}[system](doc)
        ours = [i for i in items if "T1:" in title(i)]
        if not ours or done:
            raise KeyError("T1 is not on this page, or was left out already")
        items.remove(ours[0])
        done.append(True)
    return spoil


@pytest.mark.parametrize("system", ["github", "rally", "octane", "jira"])
def test_a_linked_item_left_out_of_the_listing_is_confirmed_not_created_again(
        env_for: Callable[[str], SyncEnv], system: str) -> None:
    env = env_for(system)
    project = env.project(tasks("T1", "T2", "T3"))
    alias = env.connection(project)
    assert env.sync(alias).state == "succeeded"
    before = {tid: len(items) for tid, items in env.alm_items(alias).items()}
    original = env.target.app.dispatch
    hits: list[str] = []
    intercept(env.target.app, spoiling(system, _drop_t1(system), hits))
    result = env.sync(alias)
    env.target.app.dispatch = original  # type: ignore[method-assign]
    assert hits and result.state == "succeeded", result.outcome.message
    assert result.outcome.counts.get("created", 0) == 0, result.outcome.counts
    assert {tid: len(items) for tid, items in env.alm_items(alias).items()} == before
