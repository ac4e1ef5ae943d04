"""The SD Elements sandbox over real HTTP: auth and DRF errors, paging, the hierarchy, task shapes,
status PATCH with a note, notes, references, statuses, phases, jobs, throttling and the HTML page."""

from __future__ import annotations

import re
from typing import Any

import requests

from almdesk.sandbox.base import SandboxServer
from almdesk.sandbox.sdelements import SdeApp
from almdesk.sandbox.sdelements.drf import MAX_PAGE_SIZE
from tests.sdelements.conftest import Api

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def test_describe_names_a_working_connector_and_the_demo_project(sde_desc: dict[str, Any], api: Api) -> None:
    assert sde_desc["system"] == "sdelements"
    assert sde_desc["params"] == {"url": sde_desc["url"]}
    assert set(sde_desc["secrets"]) == {"api_token"}
    project = sde_desc["project"]
    assert project == {"id": 1, "name": "Demo Project", "business_unit": "General", "application": "Demo Application"}
    assert api.get("users/me/")["email"] == "admin@example.com"


def test_auth_errors_are_drf_shapes(sde_server: SandboxServer) -> None:
    url = sde_server.url + "/api/v2/users/me/"
    none = requests.get(url, timeout=5)
    assert none.status_code == 401
    assert none.json() == {"detail": "Authentication credentials were not provided."}
    assert none.headers["WWW-Authenticate"] == "Token"
    bad = requests.get(url, headers={"Authorization": "Token nope"}, timeout=5)
    assert (bad.status_code, bad.json()) == (401, {"detail": "Invalid token."})
    bearer = requests.get(url, headers={"Authorization": "Bearer nope"}, timeout=5)
    assert bearer.status_code == 401


def test_not_found_method_and_accept(api: Api) -> None:
    assert (api("GET", "projects/999/").status_code, api("GET", "projects/999/").json()) == (404, {"detail": "Not found."})
    assert api("GET", "projects/1/tasks/1-T9999/").json() == {"detail": "Not found."}
    put = api("PUT", "projects/1/tasks/1-T1/", json={})
    assert (put.status_code, put.json()) == (405, {"detail": 'Method "PUT" not allowed.'})
    html = api("GET", "users/me/", headers={"Accept": "text/html"})
    assert (html.status_code, html.json()) == (406, {"detail": "Could not satisfy the request Accept header."})
    assert api("GET", "users/me/", headers={"Accept": "*/*"}).status_code == 200


def test_paging_follows_next_and_caps_the_page_size(api: Api, sde_app: SdeApp) -> None:
    first = api.get("projects/1/tasks/", page_size=10)
    accepted = [t for t in sde_app.store.tasks[1].values() if t["accepted"]]
    assert first["count"] == len(accepted) >= 60
    assert first["previous"] is None and "page=2" in first["next"] and "page_size=10" in first["next"]
    seen = [t["id"] for t in first["results"]]
    url = first["next"]
    while url:
        page = api.get(url)
        seen += [t["id"] for t in page["results"]]
        url = page["next"]
    assert seen == [t["id"] for t in accepted]
    big = api.get("projects/1/tasks/", page_size=MAX_PAGE_SIZE * 5)
    assert len(big["results"]) == len(accepted) and big["next"] is None
    beyond = api("GET", "projects/1/tasks/", params={"page": 99})
    assert (beyond.status_code, beyond.json()) == (404, {"detail": "Invalid page."})


def test_hierarchy_filters(api: Api) -> None:
    units = api.get("business-units/")["results"]
    general = next(u for u in units if u["name"] == "General")
    apps = api.get("applications/", business_unit=general["id"])["results"]
    assert {a["name"] for a in apps} == {"Demo Application", "Finance App"}
    assert [a["name"] for a in api.get("applications/", name="Web Shop")["results"]] == ["Web Shop"]
    projects = api.get("projects/", application=apps[0]["id"], include="permissions")["results"]
    assert {p["name"] for p in projects} == {"Demo Project", "Mobile Client"}
    assert {"sync_with_alm", "mark_task", "write_task_note"} <= set(projects[0]["permissions"])
    assert "permissions" not in api.get("projects/1/")
    assert [p["name"] for p in api.get("projects/", search="cat")["results"]] == ["Catalogue"]


def test_task_shapes_list_detail_expand_include(api: Api) -> None:
    listed = api.get("projects/1/tasks/", page_size=200)["results"]
    t = next(x for x in listed if x["id"] == "1-T21")
    assert t["task_id"] == "T21" and isinstance(t["priority"], int)
    assert t["phase"] == "Architecture and Design" and re.fullmatch(r"TS\d", t["status"])
    assert ISO_Z.match(t["updated"]) and "tags" not in t
    detail = api.get("projects/1/tasks/1-T21/")
    assert detail["priority"] == str(t["priority"])
    expanded = api.get("projects/1/tasks/", expand="status,phase", include="tags,how_tos", page_size=200)["results"]
    statuses = {x["status"]["id"]: x["status"]["meaning"] for x in expanded}
    assert statuses == {"TS1": "DONE", "TS2": "TODO", "TS3": "NA", "TS4": "NA"}
    assert {x["phase"]["slug"] for x in expanded} == {"requirements", "architecture-design", "development",
                                                      "testing", "deployment"}
    assert {x["priority"] for x in expanded} == set(range(1, 11))
    assert any(x["tags"] for x in expanded) and all("how_tos" in x for x in expanded)
    assert any("<script>" in x["title"] for x in expanded) and any("日本語" in x["title"] for x in expanded)


def test_only_accepted_tasks_unless_asked(api: Api, sde_app: SdeApp) -> None:
    unaccepted = {t["id"] for t in sde_app.store.tasks[1].values() if not t["accepted"]}
    assert unaccepted
    default = {t["id"] for t in api.get("projects/1/tasks/", page_size=500)["results"]}
    assert not default & unaccepted
    asked = {t["id"] for t in api.get("projects/1/tasks/", accepted="false", page_size=500)["results"]}
    assert asked == unaccepted
    assert api.get("projects/1/tasks/", priority__gte=9, page_size=500)["count"] == sum(
        1 for t in sde_app.store.tasks[1].values() if t["accepted"] and t["priority"] >= 9)


def test_patch_status_with_note(api: Api) -> None:
    before = api.get("projects/1/tasks/1-T22/")
    response = api("PATCH", "projects/1/tasks/1-T22/", json={"status": "TS1", "status_note": "Closed in PROJ-22"})
    assert response.status_code == 200, response.text
    after = response.json()
    assert after["status"] == "TS1" and after["priority"] == before["priority"]
    assert after["updated"] > before["updated"] and after["note_count"] == before["note_count"] + 1
    notes = api.get("projects/1/tasks/1-T22/notes/")["results"]
    assert notes[-1]["text"] == "Closed in PROJ-22"
    bad = api("PATCH", "projects/1/tasks/1-T22/", json={"status": "TS99"})
    assert bad.status_code == 400 and "status" in bad.json()
    added = api("POST", "projects/1/tasks/1-T22/notes/", json={"text": "hello"})
    assert added.status_code == 201 and added.json()["text"] == "hello"
    assert api("POST", "projects/1/tasks/1-T22/notes/", json={}).json() == {"text": ["This field is required."]}


def test_permissions_refuse_marking_and_references(sde_server: SandboxServer, sde_app: SdeApp) -> None:
    viewer = Api(sde_server.url, sde_app.token("viewer@example.com"))
    normal = Api(sde_server.url, sde_app.token("dev@example.com"))
    refused = viewer("PATCH", "projects/1/tasks/1-T23/", json={"status": "TS1"})
    assert (refused.status_code, refused.json()) == (403, {"detail": "You do not have permission to perform this action."})
    assert "sync_with_alm" not in normal.get("projects/1/", include="permissions")["permissions"]
    ref = normal("POST", "projects/1/tasks/1-T23/references/", json={"alm_connection": 1, "reference": "1"})
    assert ref.status_code == 403
    assert "params" not in normal.get("connections/alm/")["results"][0]


def test_references_crud_unique(api: Api) -> None:
    path = "projects/1/tasks/1-T24/references/"
    body = {"alm_connection": 1, "reference": "47300", "name": "PROJ-450", "link": "https://x.test/PROJ-450"}
    created = api("POST", path, json=body)
    assert created.status_code == 201 and created.json() == {"id": created.json()["id"], **body}
    again = api("POST", path, json=body)
    assert again.status_code == 400 and "non_field_errors" in again.json()
    unknown = api("POST", path, json={**body, "alm_connection": 999})
    assert unknown.json() == {"alm_connection": ['Invalid pk "999" - object does not exist.']}
    assert api("POST", path, json={"name": "x"}).json() == {"alm_connection": ["This field is required."],
                                                            "reference": ["This field is required."]}
    rid = created.json()["id"]
    patched = api("PATCH", f"{path}{rid}/", json={"name": "PROJ-451"})
    assert patched.json()["name"] == "PROJ-451" and patched.json()["reference"] == "47300"
    assert [r["id"] for r in api.get(path)["results"]] == [rid]
    assert api("DELETE", f"{path}{rid}/").status_code == 204
    assert api.get(path)["results"] == []
    assert api("GET", f"{path}{rid}/").status_code == 404


def test_statuses_and_phases(api: Api) -> None:
    statuses = api.get("task-statuses/")["results"]
    assert statuses[:3] == [{"id": "TS1", "meaning": "DONE", "name": "Complete", "slug": "complete"},
                            {"id": "TS2", "meaning": "TODO", "name": "Incomplete", "slug": "incomplete"},
                            {"id": "TS3", "meaning": "NA", "name": "Not Applicable", "slug": "not-applicable"}]
    assert [s["id"] for s in api.get("task-statuses/", meaning="NA")["results"]] == ["TS3", "TS4"]
    assert [p["name"] for p in api.get("phases/", slug="development")["results"]] == ["Development"]
    assert api.get("server-info/")["release"]["name"]


def test_jobs_post_and_filter(api: Api) -> None:
    posted = api("POST", "jobs/alm/", json={"connection": 1, "succeeded": True, "result_message": "3 created"})
    assert posted.status_code == 201
    job = posted.json()
    assert job["succeeded"] is True and job["completed"] is True and ISO_Z.match(job["last_run"])
    mine = api.get("jobs/alm/", connection=1, succeeded="true")["results"]
    assert job["id"] in [j["id"] for j in mine] and all(j["succeeded"] for j in mine)
    last = api.get("connections/alm/", include="last_job")["results"][0]["last_job"]
    assert last["id"] == job["id"] and last["result_message"] == "3 created"
    assert api("POST", "jobs/alm/", json={"connection": 77}).status_code == 400


def test_throttle_answers_429_with_retry_after(api: Api, sde_app: SdeApp) -> None:
    sde_app.throttle(1, retry_after=7)
    limited = api("GET", "users/me/")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "7"
    assert limited.json() == {"detail": "Request was throttled. Expected available in 7 seconds."}
    assert api("GET", "users/me/").status_code == 200


def test_sign_in_page_is_html(api: Api, sde_app: SdeApp) -> None:
    sde_app.sign_in_page = True
    try:
        page = api("GET", "users/me/")
    finally:
        sde_app.sign_in_page = False
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "Sign in" in page.text
