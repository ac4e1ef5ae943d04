"""JQL escaping: almdesk's quoting read back exactly by the sandbox's JQL and Lucene parsers.

Property tests run the client's builders against the sandbox parser (pure) and over HTTP (an issue
created with an awkward summary is found again by a phrase search).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from almdesk.sandbox.base import SandboxServer
from almdesk.sandbox.jira import jql as sandbox_jql
from almdesk.systems.jira import jql
from tests.jira.conftest import start

RESERVED = sorted(sandbox_jql.RESERVED_WORDS)
AWKWARD = st.sampled_from(['"', "\\", "~", ":", "'", "\\\\", '\\"', "*", "?", "[", "]", "(", ")", "{", "}",
                           "+", "-", "&&", "||", "!", "^", "/", "%", "#", "@", ";", ",", "=", " ", "\t", "\n",
                           "T21:", "é", "日本", "AND", "OR", "NOT", *RESERVED[:40]])
TEXT = st.lists(st.one_of(AWKWARD, st.text(min_size=1, max_size=6)), max_size=12).map("".join)


def clause_value(query: str) -> sandbox_jql.Value:
    parsed = sandbox_jql.parse(query)
    assert isinstance(parsed.where, sandbox_jql.Clause)
    operand = parsed.where.operand
    assert isinstance(operand, sandbox_jql.Value) and operand.quoted
    return operand


def test_quote_examples() -> None:
    assert jql.quote('a "b" \\ c') == '"a \\"b\\" \\\\ c"'
    assert jql.text_contains("summary", "T21:") == 'summary ~ "\\"T21\\\\:\\""'
    assert jql.equals("labels", "and") == 'labels = "and"'
    assert jql.one_of("status", ["Resolved", "Closed"], negate=True) == 'status not in ("Resolved", "Closed")'


@settings(max_examples=200, deadline=None)
@given(TEXT)
def test_string_literals_round_trip(value: str) -> None:
    assert clause_value(jql.equals("labels", value)).text == value


@settings(max_examples=200, deadline=None)
@given(TEXT)
def test_text_phrases_round_trip(value: str) -> None:
    literal = clause_value(jql.text_contains("summary", value)).text
    assert literal == jql.phrase(value)
    (term,) = sandbox_jql.parse_text_query(literal)
    assert term.raw == value and not term.negated and not term.prefix
    assert term.tokens == sandbox_jql.words(value)


def test_sdetools_lookup_does_not_match_longer_ids() -> None:
    (term,) = sandbox_jql.parse_text_query(jql.phrase("T2:"))
    assert sandbox_jql.text_matches([term], "T2: Validate input")
    assert not sandbox_jql.text_matches([term], "T222: Validate input")


SUMMARY = TEXT.filter(lambda s: s.strip() != "" and "\n" not in s and "\r" not in s and len(s) <= 255
                      and bool(sandbox_jql.words(s)))


@pytest.fixture(scope="module")
def shared_dc(stopper: Callable[[SandboxServer], None]) -> Iterator[SandboxServer]:
    """One DC sandbox for every example of the HTTP property test."""
    server = start("dc", issues=0)
    yield server
    stopper(server)


@settings(max_examples=40, deadline=None)
@given(summary=SUMMARY)
def test_summaries_round_trip_over_http(shared_dc: SandboxServer, summary: str) -> None:
    server = shared_dc
    info = server.describe()
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {info['secrets']['token']}"
    base = f"{server.url}/rest/api/2"
    made = s.post(f"{base}/issue", json={"fields": {"project": {"key": "OPS"}, "issuetype": {"name": "Task"},
                                                    "summary": summary}}, timeout=5)
    assert made.status_code == 201, made.text
    key = made.json()["key"]
    query = jql.conjunction([jql.equals("project", "OPS"), jql.text_contains("summary", summary)])
    found = s.post(f"{base}/search", json={"jql": query, "fields": ["summary"], "maxResults": 1000}, timeout=5)
    assert found.status_code == 200, found.text
    hits = {i["key"]: i["fields"]["summary"] for i in found.json()["issues"]}
    assert hits.get(key) == summary
