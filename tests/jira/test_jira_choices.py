"""Jira's server-backed choices over real HTTP against the sandbox (Cloud and Data Center): projects, a
project's issue types and versions, the transitions its issues offer; a missing project names the field."""

from __future__ import annotations

import pytest

from almdesk.errors import ConfigError, UserFacingError
from almdesk.jobs.context import JobContext
from almdesk.net.session import HttpFactory
from almdesk.sandbox.base import SandboxServer
from almdesk.services.choices import ChoiceList, choices_job, list_choices
from almdesk.systems.base import Capability
from almdesk.systems.jira import SYSTEM
from almdesk.systems.registry import Registry
from tests.jira.conftest import app_of, connector_for


def test_jira_declares_what_it_lists() -> None:
    system = Registry.default().get("jira")
    assert Capability.CHOICES in system.capabilities
    assert {"alm_project", "jira_issue_type", "jira_close_transition"} <= system.listable


def test_projects_issue_types_and_transitions(jira: SandboxServer, http: HttpFactory) -> None:
    connector = connector_for(jira)
    projects = list_choices(SYSTEM, "alm_project", connector, {}, http).choices
    keys = [key for key, _label in projects]
    assert {"DEMO", "SEC", "OPS"} <= set(keys)
    demo_name = next(p.name for p in app_of(jira).data.projects.values() if p.key == "DEMO")
    assert dict(projects)["DEMO"] == f"DEMO — {demo_name}"

    types = dict(list_choices(SYSTEM, "jira_issue_type", connector, {"alm_project": "DEMO"}, http).choices)
    assert "Bug" in types and types["Bug"] == "Bug"
    assert any(label.endswith("(sub-task)") for label in types.values())

    params = {"alm_project": "DEMO", "jira_issue_type": "Bug"}
    transitions = dict(list_choices(SYSTEM, "jira_close_transition", connector, params, http).choices)
    statuses = [v for v, _ in list_choices(SYSTEM, "jira_done_statuses", connector, params, http).choices]
    assert {"Resolved", "Closed"} <= set(statuses) and len(statuses) == len(set(statuses))
    assert "Close Issue" in transitions and transitions["Close Issue"].startswith("Close Issue (from ")


def test_needs_the_project_first(cloud: SandboxServer, http: HttpFactory) -> None:
    with pytest.raises(ConfigError) as info:
        list_choices(SYSTEM, "jira_issue_type", connector_for(cloud), {"alm_project": " "}, http)
    assert info.value.field == "alm_project"


def test_job_outcome_is_typed_and_a_wrong_token_fails_with_its_field(cloud: SandboxServer,
                                                                     http: HttpFactory) -> None:
    run = choices_job(SYSTEM, "alm_project", connector_for(cloud), {}, http)
    outcome = run(JobContext())
    assert outcome.succeeded and isinstance(outcome.payload, ChoiceList)
    assert outcome.payload.field == "alm_project" and outcome.payload.choices
    bad = connector_for(cloud, secrets={"token": "wrong-token-0000"})
    with pytest.raises(UserFacingError) as failed:
        list_choices(SYSTEM, "alm_project", bad, {}, HttpFactory(retries=0))
    assert "401" in failed.value.message
