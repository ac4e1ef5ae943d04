"""A project's tasks, their notes and their references, shaped as the real server gives them.

In lists ``priority`` is an int; a single task (GET, PATCH) gives it as a string. ``phase`` is the
phase's display name unless ``expand=phase``; ``status`` the status id unless ``expand=status``;
``tags``/``how_tos`` only with ``include=``. Only accepted tasks are listed unless ``accepted=``
says otherwise. Filters: ``accepted``, ``relevant``, ``status``, ``phase`` (slug), ``priority``,
``priority__gte``, ``task_id``, ``updated__gte``. PATCH takes ``status`` (an id) and
``status_note`` (kept as a note), needs ``mark_task``; references need ``sync_with_alm`` to write
and are unique per task by (``alm_connection``, ``reference``), as DRF's unique-together says.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from almdesk.sandbox.sdelements.data import PHASES, ROLE_PERMISSIONS, clone, iso
from almdesk.sandbox.sdelements.drf import (
    body_of,
    field_errors,
    flag,
    forbidden,
    listed,
    not_found,
    paginate,
    required,
)

if TYPE_CHECKING:
    from almdesk.sandbox.sdelements.app import Call

Result = tuple[int, Any]
PHASE_BY_SLUG = {p["slug"]: p for p in PHASES}


def allowed(call: Call, permission: str) -> bool:
    return permission in ROLE_PERMISSIONS[call.user.role]


def _project(call: Call, project: int) -> dict[str, Any]:
    found = call.store.projects.get(project)
    if found is None:
        raise not_found()
    return found


def _task(call: Call, project: int, task: str) -> dict[str, Any]:
    _project(call, project)
    found = call.store.task(project, task)
    if found is None:
        raise not_found()
    return found


def render(call: Call, task: dict[str, Any], *, single: bool) -> dict[str, Any]:
    store = call.store
    includes = listed(call.request, "include")
    expands = listed(call.request, "expand")
    project = store.projects[task["project"]]
    app = store.applications[project["application"]]
    bu = store.business_units[app["business_unit"]]
    phase = PHASE_BY_SLUG[task["phase"]]
    status = store.status(task["status"])
    base = call.request.host_url.rstrip("/")
    out: dict[str, Any] = {
        "id": task["id"], "task_id": task["task_id"],
        "url": f"{base}/bunits/{bu['slug']}/{app['slug']}/{project['slug']}/tasks/phase/{phase['slug']}/{task['id']}/",
        "title": task["title"], "text": task["text"],
        "priority": str(task["priority"]) if single else task["priority"],
        "phase": {k: phase[k] for k in ("id", "name", "slug")} if "phase" in expands else phase["name"],
        "status": clone(status) if "status" in expands else task["status"],
        "verification_status": task["verification_status"], "updated": iso(task["updated"]),
        "assigned_to": list(task["assigned_to"]), "accepted": task["accepted"], "relevant": task["relevant"],
        "artifact_proxy": task["artifact_proxy"], "note_count": len(store.notes.get(task["id"], [])),
        "project": task["project"],
    }
    if "tags" in includes:
        out["tags"] = list(task["tags"])
    if "how_tos" in includes:
        out["how_tos"] = clone(task["how_tos"])
    return out


def _selected(call: Call, tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    args = call.request.args
    accepted = flag(args.get("accepted"))
    accepted = True if accepted is None and "accepted" not in args else accepted
    relevant = flag(args.get("relevant"))
    out = []
    for task in tasks:
        if accepted is not None and task["accepted"] is not accepted:
            continue
        if relevant is not None and task["relevant"] is not relevant:
            continue
        if args.get("status") and task["status"] != args["status"]:
            continue
        if args.get("phase") and task["phase"] != args["phase"]:
            continue
        if args.get("task_id") and task["task_id"] != args["task_id"]:
            continue
        if not _priority_ok(task["priority"], args):
            continue
        since = args.get("updated__gte")
        if since and task["updated"] < datetime.fromisoformat(since.replace("Z", "+00:00")):
            continue
        out.append(task)
    return out


def _priority_ok(priority: int, args: Any) -> bool:
    for key in ("priority", "priority__gte", "priority__lte"):
        raw = args.get(key)
        if raw is None:
            continue
        try:
            value = int(raw)
        except ValueError:
            raise field_errors({key: ["Enter a whole number."]}) from None
        if (key == "priority" and priority != value) or (key == "priority__gte" and priority < value) or (
                key == "priority__lte" and priority > value):
            return False
    return True


def task_list(call: Call, project: int) -> Result:
    _project(call, project)
    tasks = _selected(call, list(call.store.tasks.get(project, {}).values()))
    envelope, chunk = paginate(call.request, tasks)
    return 200, {**envelope, "results": [render(call, t, single=False) for t in chunk]}


def task_detail(call: Call, project: int, task: str) -> Result:
    return 200, render(call, _task(call, project, task), single=True)


def task_patch(call: Call, project: int, task: str) -> Result:
    found = _task(call, project, task)
    body = body_of(call.request)
    changed = False
    if "status" in body:
        if not allowed(call, "mark_task"):
            raise forbidden()
        status = call.store.status(str(body["status"]))
        if status is None:
            raise field_errors({"status": [f'Invalid pk "{body["status"]}" - object does not exist.']})
        if status["id"] != found["status"]:
            found["status"] = status["id"]
            changed = True
        note = body.get("status_note")
        if note:
            _add_note(call, found, str(note), status_note=True)
    elif "status_note" in body:
        raise field_errors({"status_note": ["A status note needs a status."]})
    if "artifact_proxy" in body:
        found["artifact_proxy"] = body["artifact_proxy"]
        changed = True
    if changed:
        found["updated"] = call.now()
    return 200, render(call, found, single=True)


def _add_note(call: Call, task: dict[str, Any], text: str, *, status_note: bool = False) -> dict[str, Any]:
    notes = call.store.notes.setdefault(task["id"], [])
    note = {"id": call.store.next_id("note"), "text": text, "created": iso(call.now()), "updated": iso(call.now()),
            "user": {"id": call.user.id, "email": call.user.email}, "status_change": status_note}
    notes.append(note)
    return note


def notes(call: Call, project: int, task: str) -> Result:
    found = _task(call, project, task)
    envelope, chunk = paginate(call.request, clone(call.store.notes.get(found["id"], [])))
    return 200, {**envelope, "results": chunk}


def note_add(call: Call, project: int, task: str) -> Result:
    found = _task(call, project, task)
    if not allowed(call, "write_task_note"):
        raise forbidden()
    body = body_of(call.request)
    required(body, "text")
    return 201, clone(_add_note(call, found, str(body["text"])))


def _refs(call: Call, project: int, task: str) -> list[dict[str, Any]]:
    found = _task(call, project, task)
    return call.store.references.setdefault(found["id"], [])


def _ref(call: Call, project: int, task: str, ref: int) -> dict[str, Any]:
    found = next((r for r in _refs(call, project, task) if r["id"] == ref), None)
    if found is None:
        raise not_found()
    return found


def references(call: Call, project: int, task: str) -> Result:
    items = clone(_refs(call, project, task))
    connection = call.request.args.get("alm_connection")
    if connection:
        items = [r for r in items if str(r["alm_connection"]) == connection]
    envelope, chunk = paginate(call.request, items)
    return 200, {**envelope, "results": chunk}


def reference(call: Call, project: int, task: str, ref: int) -> Result:
    return 200, clone(_ref(call, project, task, ref))


def _check_connection(call: Call, value: Any) -> int:
    try:
        pk = int(value)
    except (TypeError, ValueError):
        raise field_errors({"alm_connection": [f"Incorrect type. Expected pk value, received {type(value).__name__}."]}) from None
    if pk not in call.store.connections:
        raise field_errors({"alm_connection": [f'Invalid pk "{pk}" - object does not exist.']})
    return pk


def reference_add(call: Call, project: int, task: str) -> Result:
    refs = _refs(call, project, task)
    if not allowed(call, "sync_with_alm"):
        raise forbidden()
    body = body_of(call.request)
    required(body, "alm_connection", "reference")
    pk = _check_connection(call, body["alm_connection"])
    if any(r["alm_connection"] == pk and r["reference"] == str(body["reference"]) for r in refs):
        raise field_errors({"non_field_errors": ["The fields task, alm_connection, reference must make a unique set."]})
    item = {"id": call.store.next_id("reference"), "alm_connection": pk, "reference": str(body["reference"]),
            "name": str(body.get("name") or ""), "link": str(body.get("link") or "")}
    refs.append(item)
    return 201, clone(item)


def reference_patch(call: Call, project: int, task: str, ref: int) -> Result:
    found = _ref(call, project, task, ref)
    if not allowed(call, "sync_with_alm"):
        raise forbidden()
    body = body_of(call.request)
    for key in ("reference", "name", "link"):
        if key in body:
            found[key] = str(body[key] or "")
    if "alm_connection" in body:
        found["alm_connection"] = _check_connection(call, body["alm_connection"])
    return 200, clone(found)


def reference_delete(call: Call, project: int, task: str, ref: int) -> Result:
    found = _ref(call, project, task, ref)
    if not allowed(call, "sync_with_alm"):
        raise forbidden()
    _refs(call, project, task).remove(found)
    return 204, None
