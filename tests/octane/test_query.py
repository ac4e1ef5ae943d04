"""The sandbox's query parser, and the client's escaping round-tripping through it (also over HTTP)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from almdesk.base.settings import NetworkSettings
from almdesk.jobs.context import JobContext
from almdesk.net.session import HttpFactory
from almdesk.sandbox.base import SandboxServer
from almdesk.sandbox.octane import query as sq
from almdesk.systems.octane import query as q
from almdesk.systems.octane.client import OctaneClient
from almdesk.systems.octane.fields import site
from tests.octane.conftest import connector_for

ENTITIES: dict[str, dict[str, Any]] = {
    "r1": {"type": "release", "id": "r1", "name": "Release 1"},
    "p": {"type": "phase", "id": "phase.defect.new", "name": "New", "logical_name": "phase.defect.new"},
    "t1": {"type": "user_tag", "id": "t1", "name": "ui"},
}


def ctx() -> sq.Context:
    return sq.Context(resolve=lambda ref: ENTITIES.get(str(ref["id"])) or next(
        (e for e in ENTITIES.values() if e.get("logical_name") == ref["id"]), None), macros={})


def matches(statement: str, entity: dict[str, Any]) -> bool:
    return sq.evaluate(sq.parse(statement), entity, ctx())


DEFECT = {"id": "7", "name": "Crash (login)", "release": {"type": "release", "id": "r1"},
          "phase": {"type": "phase", "id": "phase.defect.new"}, "severity": None, "story_points": 5,
          "creation_time": "2025-01-02T03:04:05Z", "tags": {"data": [{"type": "user_tag", "id": "t1"}]}}


@pytest.mark.parametrize(("statement", "expected"), [
    ("id EQ 7", True),
    ("id EQ '7'", True),
    ("id IN 1,7,9", True),
    ("id BTW 1...6", False),
    ("story_points GE 5;story_points LT 6", True),
    ("story_points GT 5||id EQ 8", False),
    ("!(id EQ 8)", True),
    ("!id EQ 7", False),
    ("name EQ ^crash*^", True),
    ("name EQ 'Crash \\(login\\)'", True),
    ("name EQ ^Crash (login)^", True),
    ("name EQ ^Crash \\*^", False),
    ("release EQ {id EQ 'r1'}", True),
    ("release EQ {name EQ ^Release*^;id EQ r1}", True),
    ("phase EQ {logical_name EQ ^phase.defect.new^}", True),
    ("phase EQ {id EQ ^phase.defect.opened^}", False),
    ("severity EQ {null}", True),
    ("release EQ {null}", False),
    ("severity EQ null", True),
    ("release={id=r1}", True),
    ("creation_time GT ^2025-01-01T00:00:00Z^", True),
    ("creation_time BTW ^2024-01-01T00:00:00Z^...^2024-12-31T00:00:00Z^", False),
    ("tags EQ {id EQ t1}", True),
    ("((id EQ 7);(name EQ ^x^||name EQ ^crash (login)^))", True),
])
def test_statements(statement: str, expected: bool) -> None:
    assert matches(statement, DEFECT) is expected


@pytest.mark.parametrize("statement", ["id EQ", "id EQ 'x", "(id EQ 1", "id EQ 1)", "id ~ 1", "id EQ 1;;",
                                       "name EQ ^a\\", "EQ 1"])
def test_bad_statements_raise(statement: str) -> None:
    with pytest.raises(sq.QueryError):
        sq.parse(statement)


NASTY = st.text(alphabet=st.sampled_from(list("ab ' \" ^ \\ ( ) ; || * { } , ! [ ] EQ é")), min_size=1, max_size=30)


@settings(max_examples=300, deadline=None)
@given(NASTY, NASTY)
def test_escaping_round_trips_through_the_parser(name: str, other: str) -> None:
    statement = q.all_of([q.eq("name", name), q.any_of([q.eq("id", "1"), q.ref("release", q.eq("name", name))])])
    release = {"type": "release", "id": "r9", "name": name}
    ENTITIES["r9"] = release
    try:
        entity = {"id": "1", "name": name, "release": {"type": "release", "id": "r9"}}
        assert matches(statement, entity)
        if other.casefold() != name.casefold():
            assert not matches(q.eq("name", name), {"id": "1", "name": other})
    finally:
        del ENTITIES["r9"]


def test_pattern_keeps_wildcards() -> None:
    assert matches(f"name EQ {q.pattern('Crash (*')}", DEFECT)
    assert not matches(f"name EQ {q.literal('Crash (*')}", DEFECT)


@pytest.fixture(scope="module")
def client(shared_server: SandboxServer) -> Any:
    info = site(connector_for(shared_server))
    c = OctaneClient(info.server, info.shared_space, info.client_id, info.client_secret,
                     HttpFactory(NetworkSettings(timeout=10)), JobContext())
    yield c
    c.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(alphabet=st.sampled_from(list("xyZ '\"^\\();|*&%+#?=/{}[],!é")), min_size=1, max_size=24)
       .filter(lambda s: s.strip()))
def test_names_round_trip_over_http(client: OctaneClient, name: str) -> None:
    """A defect named with every special character is found by an exact-name query, and only it."""
    marker = f"RT-{abs(hash(name)) % 10**9}-"
    created = client.create("1002", "defects", [{"name": marker + name}])[0]
    assert not isinstance(created, Exception), created
    found, total = client.get_page("1002", "defects", query=q.eq("name", marker + name), fields=("name",))
    assert total == 1
    assert found[0]["id"] == created["id"] and found[0]["name"] == marker + name
    client.request("DELETE", client.ws_url("1002", "defects", str(created["id"])), what="cleanup")
