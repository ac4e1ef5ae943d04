"""Query quoting round-trips: names with quotes, backslashes, parentheses and operator words are found
exactly, both by the sandbox's parser directly and over HTTP through almdesk's client."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from almdesk.base.settings import ConnectorSettings
from almdesk.net.session import HttpFactory
from almdesk.sandbox.rally.query import Binary, Clause, parse
from almdesk.systems.rally.client import RallyClient, short_ref
from almdesk.systems.rally.query import all_of, any_of, clause

TRICKY = st.sampled_from(['"', "\\", "(", ")", " AND ", " OR ", "contains", "!=", "=", "null", "'", "&", "+", "%",
                          "#", "?", "\\\"", ")) OR ((Name = x", "\t", "é", "😀"])
NAMES = st.lists(st.one_of(TRICKY, st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=6)),
                 min_size=1, max_size=8).map("".join).filter(lambda s: s.strip() != "" and len(s) <= 200)


@given(NAMES, st.sampled_from(["=", "!=", "contains", "!contains", "<", ">="]))
@settings(max_examples=300, deadline=None)
def test_clause_parses_back_to_the_same_value(name: str, op: str) -> None:
    node = parse(clause("Name", op, name))
    assert node == Clause(("Name",), op, name, True)


@given(st.lists(NAMES, min_size=2, max_size=5))
@settings(max_examples=100, deadline=None)
def test_conjunctions_are_binary_and_keep_every_value(names: list[str]) -> None:
    node = parse(any_of(all_of(*(clause("Name", "=", n) for n in names[:-1])), clause("Name", "=", names[-1]))
                 or "")
    values: list[str | None] = []

    def walk(n: Clause | Binary) -> None:
        if isinstance(n, Binary):
            walk(n.left)
            walk(n.right)
        else:
            values.append(n.value)

    walk(node)
    assert values == names


@pytest.fixture(scope="module")
def live(rally_desc: dict[str, object]) -> Iterator[tuple[RallyClient, str, str]]:
    from almdesk.base.fields import parse_fields
    from almdesk.systems.rally import SYSTEM

    params = SYSTEM.check_connector(parse_fields(SYSTEM.connector_fields, rally_desc["params"]))  # type: ignore[arg-type]
    connector = ConnectorSettings("prop", "rally", params, dict(rally_desc["secrets"]))  # type: ignore[call-overload]
    client = RallyClient(connector, HttpFactory(retries=0))
    ws, _ = client.query("workspace", query=clause("Name", "=", "Acme Delivery"), fetch="Name")
    projects, _ = client.query("project", query=clause("Name", "=", "Mobile App"), fetch="Name",
                               workspace=short_ref(ws[0]["_ref"]))
    yield client, short_ref(ws[0]["_ref"]), short_ref(projects[0]["_ref"])
    client.close()


COUNTER = itertools.count()


@given(NAMES)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_names_round_trip_through_the_sandbox(live: tuple[RallyClient, str, str], name: str) -> None:
    client, workspace, project = live
    unique = f"{next(COUNTER)}|{name}"
    made = client.create("HierarchicalRequirement", {"Name": unique, "Project": project}, fetch="Name,FormattedID",
                         workspace=workspace)
    assert made["Name"] == unique
    found, total = client.query("hierarchicalrequirement", query=clause("Name", "=", unique), fetch="Name,FormattedID",
                                workspace=workspace, project=project)
    assert total == 1 and found[0]["FormattedID"] == made["FormattedID"] and found[0]["Name"] == unique
    both, _ = client.query("hierarchicalrequirement", workspace=workspace, project=project, fetch="FormattedID",
                           query=all_of(clause("Name", "contains", name), clause("FormattedID", "=",
                                                                                 made["FormattedID"])))
    assert [b["FormattedID"] for b in both] == [made["FormattedID"]]
