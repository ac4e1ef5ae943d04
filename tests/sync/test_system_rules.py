"""Rules that belong to some systems only: a missing transition (toy ALM, Jira) and GitHub's duplicate
label and pull requests, checked end to end through the engine against each sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from almdesk.systems.registry import Registry
from tests.sync.conftest import TARGETS
from tests.sync.harness import SyncEnv, Target

TRANSITION_PARAM = {"toyalm": "toyalm_close_transition", "jira": "jira_close_transition"}


@pytest.fixture(params=[n for n in TRANSITION_PARAM if n in TARGETS])
def transitions_env(request: pytest.FixtureRequest, tmp_path: Path, sync_registry: Registry) -> Iterator[SyncEnv]:
    target = Target.start(request.param, sync_registry)
    yield SyncEnv(tmp_path, target, sync_registry)
    target.stop()


def test_missing_close_transition_is_a_clear_error(transitions_env: SyncEnv) -> None:
    env = transitions_env
    param = TRANSITION_PARAM[env.target.name]
    project = env.project([{"task_id": "T1"}, {"task_id": "T2"}])
    alias = env.connection(project, conflict_policy="sde", **{param: "Resolve Now"})
    first = env.sync(alias)
    texts = [first.outcome.message]
    if first.state == "succeeded":  # the name is checked when an item needs it
        env.set_task(project, "T1", status="DONE", updated=datetime.now(UTC))
        result = env.sync(alias)
        assert result.state == "failed"
        assert result.outcome.counts["failed"] == 1 and result.outcome.counts["unchanged"] == 1
        texts = [e.message for e in env.events(result) if e.status == "failed"]
        assert not env.alm_items(alias)["T1"][0].done
    else:  # the adapter checked the workflow up front
        assert first.error is not None and first.error.field == param, first.outcome.message
    text = " ".join(texts)
    assert "Resolve Now" in text and "Close" in text, text  # names the missing one and lists the valid ones


@pytest.mark.skipif("github" not in TARGETS, reason="GitHub system not installed")
def test_github_skips_duplicate_labelled_issues_and_pull_requests(tmp_path: Path, sync_registry: Registry) -> None:
    from almdesk.sandbox.github.seed import add_issue

    target = Target.start("github", sync_registry)
    try:
        env = SyncEnv(tmp_path, target, sync_registry)
        project = env.project([{"task_id": "T5"}, {"task_id": "T6"}, {"task_id": "T7"}])
        alias = env.connection(project)
        fmt = env.title_format(alias)
        label = env.settings(alias).params["github_issue_label"]
        world = target.app.world  # type: ignore[attr-defined]
        repo = world.repo("almdesk-demo", "webapp")
        now = datetime.now(UTC)
        dup = add_issue(world, repo, fmt.full("T5", "old copy"), "dev-alice", now, labels=[label, "duplicate"])
        closed_dup = add_issue(world, repo, fmt.full("T6", "closed copy"), "dev-alice", now,
                               labels=[label, "Duplicate"], state="closed")
        pull = add_issue(world, repo, fmt.full("T7", "a pull request"), "dev-alice", now, labels=[label],
                         pull_request=True)
        kept = add_issue(world, repo, fmt.full("T6", "the real one, closed"), "dev-bob", now, labels=[label],
                         state="closed")
        result = env.sync(alias)
        assert result.state == "succeeded", result.outcome.message
        assert result.outcome.counts["created"] == 2  # T5 and T7: duplicates and pull requests do not count
        items = env.alm_items(alias)
        assert {tid: len(v) for tid, v in items.items()} == {"T5": 1, "T6": 1, "T7": 1}
        refs = {v[0].ref for v in items.values()}
        assert str(kept.number) in refs  # found among closed issues
        assert not refs & {str(dup.number), str(closed_dup.number), str(pull.number)}
        assert env.task(project, "T6").status == "DONE"  # the closed issue's status came back (policy alm)
    finally:
        target.stop()
