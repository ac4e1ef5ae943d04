"""Broadcom's own Python client, pyral (from PyPI), against the sandbox over HTTPS.

pyral always builds ``https://`` URLs, reads the user, subscription, workspaces, projects and the
``/slm/schema`` document on connect, validates attribute names against that schema on writes, and
re-reads every created or updated object; so this exercises most of the wire protocol.
"""

from __future__ import annotations

import warnings

import pytest

from almdesk.sandbox.base import SandboxServer
from almdesk.sandbox.rally import RallyApp

pyral = pytest.importorskip("pyral")


def _connect(server: SandboxServer, **kwargs: object) -> object:
    host = server.url.split("://", 1)[1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pyral.Rally(host, workspace="Acme Delivery", project="Online Store", **kwargs)


def test_pyral_connects_creates_queries_pages_and_updates(tls_rally: tuple[SandboxServer, RallyApp]) -> None:
    server, app = tls_rally
    rally = _connect(server, apikey=app.info.admin.api_key)
    assert rally.getWorkspace().Name == "Acme Delivery"
    assert rally.getProject().Name == "Online Store"
    assert "Mobile App" in [p.Name for p in rally.getProjects()]

    story = rally.create("Story", {"Name": "Created by pyral", "ScheduleState": "Defined", "PlanEstimate": 3})
    assert story.FormattedID.startswith("US") and story.ScheduleState == "Defined"
    defect = rally.create("Defect", {"Name": "pyral defect", "State": "Open", "Severity": "Major Problem",
                                     "Requirement": story.ref})
    assert defect.FormattedID.startswith("DE") and defect.Requirement.FormattedID == story.FormattedID

    response = rally.get("Story", fetch="FormattedID,Name,ScheduleState", order="FormattedID", pagesize=7)
    stories = list(response)
    assert response.resultCount == len(stories) > 14  # several pages of 7
    assert len({s.FormattedID for s in stories}) == len(stories)
    assert stories[-1].FormattedID == story.FormattedID

    query = f'FormattedID = "{story.FormattedID}"'
    assert [s.Name for s in rally.get("Story", fetch="Name", query=query)] == ["Created by pyral"]

    fixed = rally.update("Defect", {"FormattedID": defect.FormattedID, "State": "Fixed"})
    assert fixed.State == "Fixed"
    accepted = rally.update("Story", {"ObjectID": story.oid, "ScheduleState": "Accepted"})
    assert accepted.ScheduleState == "Accepted"
    stored = app.store.get(int(story.oid))
    assert stored is not None and stored["ScheduleState"] == "Accepted" and stored["AcceptedDate"]

    assert rally.getAllowedValues("Defect", "Severity")[:2] == ["None", "Crash/Data Loss"]
    rally.setProject("Mobile App")
    mobile = rally.create("Story", {"Name": "In the mobile project"})
    project = app.store.get(app.store.get(int(mobile.oid))["Project"])  # type: ignore[index]
    assert project is not None and project["Name"] == "Mobile App"

    rally.setWorkspace("Acme Research")
    assert rally.getWorkspace().Name == "Acme Research" and rally.getProject().Name == "Prototypes"
    research = rally.create("Defect", {"Name": "Defect in research"})
    assert research.FormattedID == "DE1"  # FormattedIDs count per workspace
    assert [d.Name for d in rally.get("Defect", fetch="Name")] == ["Defect in research"]


def test_pyral_with_basic_auth_uses_the_security_token(tls_rally: tuple[SandboxServer, RallyApp]) -> None:
    server, app = tls_rally
    rally = _connect(server, user=app.info.admin.username, password="Sandbox-Rally-1")
    defect = rally.create("Defect", {"Name": "basic-auth pyral defect"})
    assert defect.FormattedID.startswith("DE")
    writes = [path for method, path, _ in app.log if method in ("PUT", "POST")]
    assert writes and all("key=" in p and "key=None" not in p for p in writes)


def test_pyral_reports_a_bad_key_and_a_bad_project(tls_rally: tuple[SandboxServer, RallyApp]) -> None:
    server, app = tls_rally
    with pytest.raises(Exception, match="Invalid credentials"):
        _connect(server, apikey="_definitelyNotAKey")
    with pytest.raises(Exception, match="No Such Project"):
        host = server.url.split("://", 1)[1]
        pyral.Rally(host, apikey=app.info.admin.api_key, workspace="Acme Delivery", project="No Such Project")


def test_pyral_with_a_read_only_key_reads_but_cannot_write(tls_rally: tuple[SandboxServer, RallyApp]) -> None:
    server, app = tls_rally
    rally = _connect(server, apikey=app.info.admin_read_only_key)
    assert rally.getProject().Name == "Online Store"
    assert list(rally.get("Story", fetch="FormattedID", pagesize=5))
    before = len(app.store.by_type["Defect"])
    with pytest.raises(Exception, match="read-only"):
        rally.create("Defect", {"Name": "written with a read-only key"})
    assert len(app.store.by_type["Defect"]) == before


def test_pyral_meets_jetty_html_on_401(tls_rally: tuple[SandboxServer, RallyApp]) -> None:
    server, app = tls_rally
    import requests

    r = requests.get(server.url + "/slm/webservice/v2.0/subscription", headers={"ZSESSIONID": "_nope"}, timeout=5)
    assert r.status_code == 401 and r.headers["Content-Type"].startswith("text/html")
    assert "Full authentication is required to access this resource" in r.text and "Powered by Jetty" in r.text
    with pytest.raises(Exception, match=r"401|Invalid credentials"):
        _connect(server, apikey=app.info.disabled.api_key)
