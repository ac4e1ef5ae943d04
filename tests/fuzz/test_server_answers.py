"""Fuzzing server answers: one answer of a real sandbox spoiled, each system's client ends in a clear error.

For each system a module-scoped :class:`~tests.fuzz.answers.Rig` runs its sandbox behind a werkzeug
``Mangler`` we control. Each example picks a scenario (Test Connection steps, gate, Create Defect, sync
adapter: prepare, list, create two, close one), which of its requests to spoil, and how (HTML, cut JSON,
wrong types, missing keys, empty, null, garbage, 4 MB bodies, 20,000-element pages, other statuses, no or
wrong Content-Type). The scenario must end normally or with a ``UserFacingError`` whose message is short,
has no traceback and no secret — never another exception, never a runaway loop of requests.

Transport-level breakage (body shorter than Content-Length, redirect loops and bad redirect targets,
garbled gzip, a malformed Retry-After, JSON nested 100,000 deep) is turned into a RemoteError by
``almdesk.net.session.send`` / ``json_body``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from almdesk.systems.registry import Registry
from tests.fuzz.answers import (
    CONTENT_KINDS,
    SCENARIOS,
    STATUSES,
    TRANSPORT_KINDS,
    WRONG_VALUES,
    Mutation,
    Rig,
    run_scenario,
)
from tests.fuzz.common import fuzz_settings
from tests.sync.harness import real_systems

SYSTEMS = real_systems()
MAX_REQUESTS = 400  # more than this for one scenario is a runaway loop


@pytest.fixture(scope="module", params=SYSTEMS)
def rig(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    r = Rig.start(request.param, tmp_path_factory.mktemp(f"answers-{request.param}"), Registry.default())
    try:
        for scenario in SCENARIOS:  # unspoiled: every scenario works, and we learn how many requests it makes
            r.mangler.arm(-1, None)
            assert run_scenario(r, scenario) == "ok", scenario
            r.requests[scenario] = r.mangler.seen
        yield r
    finally:
        r.stop()


MUTATIONS = st.builds(Mutation, kind=st.sampled_from(CONTENT_KINDS), pick=st.integers(0, 10**6),
                      value=st.sampled_from(WRONG_VALUES), status=st.sampled_from(STATUSES),
                      body=st.sampled_from(["original", "empty", "html", "json-message"]))


@fuzz_settings(60)
@given(scenario=st.sampled_from(SCENARIOS), mutation=MUTATIONS, data=st.data())
def test_a_spoiled_answer_ends_in_a_clear_error(rig: Rig, scenario: str, mutation: Mutation,
                                                data: st.DataObject) -> None:
    n = data.draw(st.integers(0, max(0, rig.requests[scenario] - 1)), label="spoiled request")
    rig.mangler.arm(n, mutation)
    try:
        outcome = run_scenario(rig, scenario)
    finally:
        seen, spoiled = rig.mangler.seen, rig.mangler.spoiled
        rig.mangler.arm(-1, None)
    assert seen < MAX_REQUESTS, f"{seen} requests after spoiling {spoiled}: a runaway loop"
    del outcome


def test_every_system_is_fuzzed() -> None:
    assert set(SYSTEMS) == {"octane", "jira", "github", "rally"}, SYSTEMS


# Transport breakage: bodies cut short of their Content-Length, redirect loops and bad redirect targets,
# garbled gzip, a malformed Retry-After and JSON nested 100,000 deep, on the first requests of Test
# Connection and of the sync adapter: send()/json_body() turn each into a RemoteError.
@pytest.mark.parametrize("kind", TRANSPORT_KINDS)
@pytest.mark.parametrize("scenario", ["steps", "sync"])
def test_transport_breakage_ends_in_a_clear_error(rig: Rig, kind: str, scenario: str) -> None:
    if kind == "bad-retry-after" and rig.system == "github":
        pytest.skip("GitHub's client waits a minute on a 429 without a usable Retry-After, as GitHub documents")
    for n in range(min(4, rig.requests[scenario])):
        rig.mangler.arm(n, Mutation(kind))
        try:
            run_scenario(rig, scenario)
        finally:
            rig.mangler.arm(-1, None)


# Regressions: answers the fuzzer found escaping as KeyError/TypeError/AttributeError/RecursionError or
# making megabyte messages (fixed by almdesk/systems/answers.py, jira/errors.py, github/errors.py and
# octane/resolve.py).
REGRESSIONS = [
    ("octane", "defect", ("POST", "/defects"), Mutation("null")),
    ("octane", "sync", ("GET", "/defects"), Mutation("drop-key", pick=3)),
    ("octane", "steps", ("GET", "/workspaces"), Mutation("empty")),
    ("octane", "gate", ("GET", "/releases"), Mutation("huge-list")),
    ("jira", "sync", ("GET", "/search/jql"), Mutation("empty")),
    ("jira", "defect", ("GET", "/issuetypes"), Mutation("null")),
    ("jira", "gate", ("POST", "/approximate-count"), Mutation("empty")),
    ("jira", "defect", ("POST", "/rest/api/3/issue"), Mutation("huge-string")),
    ("jira", "sync", ("POST", "/transitions"), Mutation("deep-json-error")),
    ("github", "sync", ("PATCH", "/issues/"), Mutation("huge-string")),
    ("github", "sync", ("POST", "/issues"), Mutation("deep-json-error")),
    ("rally", "sync", ("POST", "/batch"), Mutation("deep-json-error")),
    ("rally", "steps", ("GET", "/security/authorize"), Mutation("deep-json-error")),
    ("rally", "sync", ("GET", "/workspace"), Mutation("wrong-type", pick=5, value="x")),
    ("rally", "defect", ("GET", "/project"), Mutation("wrong-type", pick=5, value="x")),
]


@pytest.mark.parametrize(("system", "scenario", "match", "mutation"), REGRESSIONS,
                         ids=[f"{s}-{sc}-{m[1]}-{mu.kind}" for s, sc, m, mu in REGRESSIONS])
def test_found_by_the_fuzzer(system: str, scenario: str, match: tuple[str, str], mutation: Mutation,
                             tmp_path: Path) -> None:
    rig = Rig.start(system, tmp_path, Registry.default())  # fresh: the spoiled request must happen
    try:
        rig.mangler.arm(-1, mutation, match)
        run_scenario(rig, scenario)
        assert rig.mangler.spoiled, f"no {match} request in {scenario}"
    finally:
        rig.stop()
