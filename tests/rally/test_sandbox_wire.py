"""The Rally sandbox over real HTTP: auth, envelopes, Errors on 200, paging, scoping, writes, batch, limits."""

from __future__ import annotations

import threading
from typing import Any

import requests

from almdesk.sandbox.base import Faults, SandboxServer, serve
from almdesk.sandbox.rally import RallyApp, create
from almdesk.systems.rally import SYSTEM
from tests.rally.conftest import API, ITEMS, WsapiClient


def test_describe_names_exactly_the_systems_fields(rally_desc: dict[str, Any]) -> None:
    connector_names = {f.name for f in SYSTEM.connector_fields}
    connection_names = {f.name for f in SYSTEM.connection_fields}
    assert rally_desc["system"] == "rally"
    assert set(rally_desc["params"]) <= connector_names
    assert set(rally_desc["secrets"]) <= connector_names
    assert set(rally_desc["connection_params"]) <= connection_names
    assert rally_desc["params"]["alm_server"] == rally_desc["url"]


def test_api_key_auth_and_refusals(rally_server: SandboxServer, rally_app: RallyApp, wsapi: WsapiClient) -> None:
    me = wsapi.get("user")["User"]
    assert me["UserName"] == rally_app.info.admin.username and me["Errors"] == []
    url = rally_server.url + API + "/user"
    assert requests.get(url, headers={"ZSESSIONID": "_wrong"}, timeout=5).status_code == 401
    assert requests.get(url, timeout=5).status_code == 401
    disabled = requests.get(url, headers={"ZSESSIONID": rally_app.info.disabled.api_key}, timeout=5)
    assert disabled.status_code == 401 and disabled.headers["Content-Type"].startswith("text/html")
    assert "Full authentication is required to access this resource" in disabled.text and "Jetty" in disabled.text


def test_non_api_paths_are_plain_404_pages(rally_server: SandboxServer) -> None:
    response = requests.get(rally_server.url + "/alm/api", timeout=5)
    assert response.status_code == 404 and "html" in response.headers["Content-Type"]


def test_query_paging_is_one_based_and_capped(wsapi: WsapiClient) -> None:
    ws = wsapi.query("workspace", "(Name = \"Acme Delivery\")", fetch="Name")["Results"][0]["_ref"]
    first = wsapi.query("hierarchicalrequirement", workspace=ws, pagesize=5, start=1, order="FormattedID",
                        fetch="FormattedID")
    second = wsapi.query("hierarchicalrequirement", workspace=ws, pagesize=5, start=6, order="FormattedID",
                         fetch="FormattedID")
    assert first["StartIndex"] == 1 and first["PageSize"] == 5 and len(first["Results"]) == 5
    assert first["TotalResultCount"] == second["TotalResultCount"] >= ITEMS
    assert [r["FormattedID"] for r in first["Results"]] == ["US1", "US2", "US3", "US4", "US5"]
    assert second["Results"][0]["FormattedID"] == "US6"
    big = wsapi.query("hierarchicalrequirement", workspace=ws, pagesize=5000)
    assert big["PageSize"] == 2000 and big["Warnings"]


def test_bad_queries_answer_200_with_errors(wsapi: WsapiClient) -> None:
    result = wsapi.query("defect", "(Nonsense = 1)")
    assert result["Errors"] and "Could not find attribute" in result["Errors"][0]
    assert result["TotalResultCount"] == 0 and result["Results"] == []
    assert "Could not parse" in wsapi.query("defect", "(State = Open) AND (Severity = x)")["Errors"][0]


def test_dotted_paths_and_project_scoping(wsapi: WsapiClient, rally_app: RallyApp) -> None:
    parent = rally_app.info.parent_story
    tasks = wsapi.query("task", f"(WorkProduct.FormattedID = {parent})", fetch="FormattedID,WorkProduct")
    assert tasks["TotalResultCount"] >= 5
    assert all(t["WorkProduct"]["FormattedID"] == parent for t in tasks["Results"])
    online = wsapi.query("project", '(Name = "Online Store")')["Results"][0]["_ref"]
    down = wsapi.query("hierarchicalrequirement", project=online)["TotalResultCount"]
    only = wsapi.query("hierarchicalrequirement", project=online, projectScopeDown="false")["TotalResultCount"]
    assert down > only  # Checkout Team is a child project of Online Store


def test_create_read_update_delete_and_errors_on_200(wsapi: WsapiClient) -> None:
    online = wsapi.query("project", '(Name = "Online Store")')["Results"][0]["_ref"]
    created = wsapi.post("hierarchicalrequirement/create",
                         {"HierarchicalRequirement": {"Name": "New story", "Project": online, "Colour": "red"}},
                         fetch="FormattedID,ScheduleState")["CreateResult"]
    assert created["Errors"] == [] and "Colour" in created["Warnings"][0]
    story = created["Object"]
    assert story["FormattedID"].startswith("US") and story["ScheduleState"] == "Defined"
    oid = story["_ref"].rsplit("/", 1)[1]
    bad = wsapi.post(f"hierarchicalrequirement/{oid}", {"HierarchicalRequirement": {"ScheduleState": "Done"}})
    assert "not an allowed value" in bad["OperationResult"]["Errors"][0]
    good = wsapi.post(f"hierarchicalrequirement/{oid}", {"HierarchicalRequirement": {"ScheduleState": "Accepted"}})
    assert good["OperationResult"]["Object"]["ScheduleState"] == "Accepted"
    assert good["OperationResult"]["Object"]["AcceptedDate"]
    missing = wsapi.post("defect/create", {"Defect": {"Project": online}}, method="PUT")["CreateResult"]
    assert missing["Errors"] == ["Validation error: Defect.Name should not be null"]
    assert wsapi.session.delete(f"{wsapi.url}/hierarchicalrequirement/{oid}", timeout=5).json()[
        "OperationResult"]["Errors"] == []
    assert wsapi.get(f"hierarchicalrequirement/{oid}")["OperationResult"]["Errors"] == ["Cannot find object to read"]


def test_viewer_cannot_write(wsapi: WsapiClient) -> None:
    finance = wsapi.query("project", '(Name = "Finance Reports")')["Results"][0]["_ref"]
    result = wsapi.post("defect/create", {"Defect": {"Name": "x", "Project": finance}})["CreateResult"]
    assert "Not authorized" in result["Errors"][0] and "Viewer" in result["Errors"][0]


def test_basic_auth_needs_the_security_token_for_writes(rally_server: SandboxServer, rally_app: RallyApp) -> None:
    session = requests.Session()
    session.auth = (rally_app.info.admin.username, "Sandbox-Rally-1")
    base = rally_server.url + API
    body = {"Defect": {"Name": "basic-auth defect"}}
    refused = session.post(f"{base}/defect/create", json=body, timeout=5).json()["CreateResult"]
    assert refused["Errors"] == ["Not authorized to perform action: Invalid key"]
    token = session.get(f"{base}/security/authorize", timeout=5).json()["OperationResult"]["SecurityToken"]
    made = session.post(f"{base}/defect/create", params={"key": token}, json=body, timeout=5).json()
    assert made["CreateResult"]["Errors"] == []
    rally_app.expire_sessions()
    again = session.post(f"{base}/defect/create", params={"key": token}, json=body, timeout=5).json()
    assert again["CreateResult"]["Errors"] == ["Not authorized to perform action: Invalid key"]
    wrong = requests.get(f"{base}/user", auth=(rally_app.info.admin.username, "nope"), timeout=5)
    assert wrong.status_code == 401


def test_batch_runs_entries_and_reports_each(wsapi: WsapiClient) -> None:
    online = wsapi.query("project", '(Name = "Online Store")')["Results"][0]["_ref"]
    batch = {"Batch": [
        {"Entry": {"Path": "/hierarchicalrequirement/create?fetch=FormattedID", "Method": "POST",
                   "Body": {"HierarchicalRequirement": {"Name": "one", "Project": online}}}},
        {"Entry": {"Path": "/hierarchicalrequirement/create", "Method": "POST",
                   "Body": {"HierarchicalRequirement": {"Name": "two", "Project": online, "ScheduleState": "Nope"}}}},
        {"Entry": {"Path": "/defect?query=(Name%20=%20%22one%22)", "Method": "GET"}},
    ]}
    result = wsapi.post("batch", batch)["BatchResult"]
    assert result["Errors"] == [] and len(result["Results"]) == 3
    assert result["Results"][0]["Errors"] == [] and result["Results"][0]["Object"]["FormattedID"].startswith("US")
    assert "not an allowed value" in result["Results"][1]["Errors"][0]
    assert result["Results"][2]["TotalResultCount"] == 0


def test_collections_and_schema(wsapi: WsapiClient, rally_app: RallyApp, rally_server: SandboxServer) -> None:
    parent = wsapi.query("hierarchicalrequirement", f"(FormattedID = {rally_app.info.parent_story})",
                         fetch="Tasks,Tags")["Results"][0]
    tasks = wsapi.session.get(parent["Tasks"]["_ref"], params={"fetch": "FormattedID"}, timeout=5).json()
    assert tasks["QueryResult"]["TotalResultCount"] == parent["Tasks"]["Count"] >= 5
    assert {t["Name"] for t in parent["Tags"]["_tagsNameArray"]} == {"SD-Elements", "security"}
    ws_oid = wsapi.query("workspace", '(Name = "Acme Delivery")')["Results"][0]["_ref"].rsplit("/", 1)[1]
    schema = wsapi.session.get(f"{rally_server.url}/slm/schema/v2.0/workspace/{ws_oid}", timeout=5).json()
    story = next(t for t in schema["QueryResult"]["Results"] if t["ElementName"] == "HierarchicalRequirement")
    state = next(a for a in story["Attributes"] if a["ElementName"] == "ScheduleState")
    values = wsapi.session.get(state["AllowedValues"]["_ref"], timeout=5).json()["QueryResult"]["Results"]
    assert [v["StringValue"] for v in values] == ["Defined", "In-Progress", "Completed", "Accepted"]


def _parallel(url: str, key: str, n: int) -> list[int]:
    codes: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(n)  # all n send together, however slowly their threads start

    def one() -> None:
        start.wait()
        code = requests.get(url, headers={"ZSESSIONID": key}, timeout=30).status_code
        with lock:
            codes.append(code)

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return codes


def test_concurrency_limit_slows_extra_requests_down() -> None:
    app = create(seed=3, items=4, latency=0.2)
    server = serve(app)
    try:
        codes = _parallel(server.url + API + "/user", app.info.admin.api_key, 20)
    finally:
        server.stop()
    assert codes == [200] * 20
    admin = f"user:{app.store.api_keys[app.info.admin.api_key]}"
    assert app.concurrency.max_in_flight["concurrent"][admin] <= 12
    assert app.concurrency.waited["concurrent"] > 0


def test_strict_concurrency_limit_answers_429() -> None:
    app = create(seed=3, items=4, latency=1.0, strict_rate_limits=True)  # long enough to overlap on a busy machine
    server = serve(app)
    try:
        codes = _parallel(server.url + API + "/user", app.info.admin.api_key, 16)
    finally:
        server.stop()
    assert codes.count(429) == app.concurrency.refused["concurrent"] > 0 and codes.count(200) >= 12


def test_fault_injection_applies() -> None:
    app = create(seed=1, items=4)
    server = serve(app, faults=Faults.parse("503:1.0"))
    try:
        response = requests.get(server.url + API + "/user", headers={"ZSESSIONID": app.info.admin.api_key},
                                timeout=5)
    finally:
        server.stop()
    assert response.status_code == 503
