"""``$context`` in the title format: the connection's ``alm_context`` (SD Elements' context).

A format using ``$context`` writes the connection's context into every title it creates, and the fixed
(lookup) title carries it too: items made under another context are not this connection's.
"""

from __future__ import annotations

import pytest

from almdesk.base.fields import FieldErrors
from almdesk.errors import ConfigError
from almdesk.sync.titles import TitleFormat, check_title_settings
from almdesk.systems.common import COMMON_CONNECTION_FIELDS
from tests.sync.harness import SyncEnv

FORMAT = "[$context] $task_id $title"


def test_context_is_written_into_full_and_fixed_titles_and_only_its_own_titles_match() -> None:
    fmt = TitleFormat.parse(FORMAT, context="  Shop \n Web ")
    assert fmt.full("T5", "Use TLS") == "[Shop Web] T5: Use TLS"
    assert fmt.full("T5", "") == "[Shop Web] T5:"
    assert fmt.task_id_of("[Shop Web] T5: renamed later") == "T5"
    assert fmt.task_id_of("[Shop  Web] T5:") == "T5"  # whitespace as servers collapse it
    assert fmt.task_id_of("[Shop Web 2] T5: Use TLS") is None  # another connection's context
    assert fmt.task_id_of("[] T5: Use TLS") is None and fmt.task_id_of("T5: Use TLS") is None
    assert fmt.task_id_of("[Shop Web] T55: Use TLS") != "T5"
    braces = TitleFormat.of({"alm_title_format": "${context}/${task_id} ${title}", "alm_context": "A.B (c)"})
    assert braces.full("T1", "x") == "A.B (c)/T1: x" and braces.task_id_of("A.B (c)/T1: y") == "T1"
    assert braces.task_id_of("AxB (c)/T1: y") is None  # the context is literal text, not a pattern


def test_a_format_using_context_needs_one() -> None:
    with pytest.raises(ConfigError) as err:
        TitleFormat.parse(FORMAT)
    assert err.value.field == "alm_context" and "alm_context" in err.value.hint
    assert set(check_title_settings({"alm_title_format": FORMAT, "alm_context": " "})) == {"alm_context"}
    assert check_title_settings({"alm_title_format": FORMAT, "alm_context": "Team A"}) == {}
    assert check_title_settings({"alm_title_format": "${task_id} ${title}"}) == {}  # sdetools' default spelling
    assert set(check_title_settings({"alm_title_format": "$title"})) == {"alm_title_format"}
    assert TitleFormat.parse("$task_id $title").full("T1", "") == "T1:"  # no context needed without $context


def test_alm_context_is_a_connection_setting() -> None:
    field = next(f for f in COMMON_CONNECTION_FIELDS if f.name == "alm_context")
    assert field.default == "" and not field.required and field.section == "Target"


def _titles(env: SyncEnv, alias: str) -> list[str]:
    adapter = env.adapter(alias)
    try:
        return sorted(item.title for item in adapter.iter_items())
    finally:
        adapter.close()


def test_sync_writes_the_context_and_finds_items_by_it(toy: SyncEnv) -> None:
    project = toy.project([{"task_id": "T1", "title": "Use TLS"}, {"task_id": "T2", "title": "Hash passwords"}])
    team_a = toy.connection(project, "team-a", alm_title_format=FORMAT, alm_context="Team A")
    result = toy.sync(team_a)
    assert result.state == "succeeded", result.outcome.message
    assert result.outcome.counts["created"] == 2
    assert _titles(toy, team_a) == ["[Team A] T1: Use TLS", "[Team A] T2: Hash passwords"]

    # the connection made again (same context, no links) finds them by their fixed titles; while the first one
    # exists, a second connection with its context on the same target is a conflict (tests/sync/test_identity.py)
    toy.config.delete_connection(team_a)
    again = toy.connection(project, "team-a-again", alm_title_format=FORMAT, alm_context="Team A")
    result = toy.sync(again)
    assert result.state == "succeeded", result.outcome.message
    assert result.outcome.counts["created"] == 0 and result.outcome.counts["linked"] == 2

    # a connection with another context does not take Team A's items: it makes its own
    team_b = toy.connection(project, "team-b", alm_title_format=FORMAT, alm_context="Team B")
    result = toy.sync(team_b)
    assert result.state == "succeeded", result.outcome.message
    assert result.outcome.counts["created"] == 2 and result.outcome.counts["linked"] == 0
    assert [t for t in _titles(toy, team_b) if t.startswith("[Team B]")] == ["[Team B] T1: Use TLS",
                                                                            "[Team B] T2: Hash passwords"]


def test_saving_a_connection_with_context_in_the_format_but_no_context_is_refused(toy: SyncEnv) -> None:
    project = toy.project([{"task_id": "T1", "title": "Use TLS"}])
    with pytest.raises(FieldErrors) as err:
        toy.connection(project, "no-context", alm_title_format=FORMAT)
    assert set(err.value.errors) == {"alm_context"}
    assert "Context is empty" in err.value.errors["alm_context"].message
    # sdetools' own spelling of the default format is accepted
    toy.connection(project, "braces", alm_title_format="${task_id} ${title}")
