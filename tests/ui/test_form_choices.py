"""The generic form: friendly labels for every choice (values stored, the CLI's values accepted), the
priority map as a table (round-trips the stored text exactly; a bad row is a field error naming it, through
the real connection editor and SQLite), and server-backed pickers run in the job runner against the Octane
and Jira sandboxes with the form's unsaved values."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox

from almdesk.base.fields import FieldErrors, FieldKind, parse_fields
from almdesk.config import NETWORK_FIELDS, connection_fields
from almdesk.sandbox.base import SandboxServer, serve
from almdesk.services import Services
from almdesk.services.choices import ChoiceQuery
from almdesk.systems.common import COMMON_CONNECTION_FIELDS
from almdesk.systems.registry import SYSTEM_NAMES
from almdesk.ui.connection_page import ConnectionEditor
from almdesk.ui.field_editors import PairTableEdit, Pickers, ServerPicker
from almdesk.ui.forms import ChecklistEdit, FieldForm
from almdesk.ui.runner import JobRunner
from tests.ui.conftest import OctaneEnv

MAP = '{"1-3": "Low", "4-6": "Medium",  "7-10": "High"}'  # spaces as someone typed them on the CLI


def _every_field(services: Services):  # type: ignore[no-untyped-def]
    for system in services.registry:
        if system.name not in SYSTEM_NAMES:  # the tests' toy systems
            continue
        yield from ((system.name, f) for f in (*system.connector_fields, *system.connection_fields))
    yield from (("common", f) for f in COMMON_CONNECTION_FIELDS)
    yield from (("network", f) for f in NETWORK_FIELDS)


def test_every_choice_has_a_label(qtbot, services: Services) -> None:  # type: ignore[no-untyped-def]
    seen = 0
    for where, f in _every_field(services):
        if f.kind not in (FieldKind.CHOICE, FieldKind.MULTI_CHOICE) or not f.choices:
            continue
        seen += 1
        assert len(f.choice_labels) == len(f.choices), (where, f.name)
        raw = [c for c in f.choices if c.islower() or "_" in c]  # codes like cloud, api_token, alm
        assert all(f.choice_label(c) != c for c in raw), (where, f.name, f.choice_pairs())
        form = FieldForm([f])
        qtbot.addWidget(form)
        editor = form.editors[f.name]
        if isinstance(editor, QComboBox):
            for value, label in f.choice_pairs():
                editor.setCurrentIndex(editor.findData(value))
                assert editor.currentText() == label and form.values()[f.name] == value
        else:
            assert isinstance(editor, ChecklistEdit)
            form.set_values({f.name: list(f.choices[:2])})
            assert [editor.item(i).text() for i in range(2)] == [f.choice_label(c) for c in f.choices[:2]]
            assert form.values()[f.name] == list(f.choices[:2])
        assert parse_fields([f], {f.name: f.choices[-1]}, partial=True)  # the CLI keeps taking values
    assert seen >= 8
    jira = services.registry.get("jira")
    deployment = next(f for f in jira.connector_fields if f.name == "deployment")
    auth = next(f for f in jira.connector_fields if f.name == "auth_method")
    policy = next(f for f in COMMON_CONNECTION_FIELDS if f.name == "conflict_policy")
    assert deployment.choice_label("cloud") == "Jira Cloud" and auth.choice_label("api_token").startswith("API token")
    assert "ALM" in policy.choice_label("alm")


def test_every_listable_field_gets_a_picker(qtbot, services: Services, runner: JobRunner) -> None:  # type: ignore[no-untyped-def]
    from almdesk.base.settings import ConnectorSettings

    listed = 0
    for system in services.registry:
        if system.name not in SYSTEM_NAMES:
            continue
        query = ChoiceQuery(services, system, lambda: ConnectorSettings("x", "x", {}), dict)
        for fields in (system.connector_fields, connection_fields(system)):
            form = FieldForm(fields, pickers=Pickers(runner, query))
            qtbot.addWidget(form)
            for f in fields:
                picked = isinstance(form.editors[f.name], ServerPicker)
                assert picked == (f.name in system.listable and not f.choices and f.kind is not FieldKind.SECRET), \
                    (system.name, f.name)
                listed += picked
    assert listed >= 12
    assert not isinstance(FieldForm(connection_fields(services.registry.get("jira"))).editors["alm_project"],
                          ServerPicker)  # no pickers given: the plain editor


def _status_form(editor: ConnectionEditor) -> FieldForm:
    return editor.forms["Status"]


def test_priority_map_table_round_trips_and_names_a_bad_row(qtbot, services: Services,  # type: ignore[no-untyped-def]
                                                            octane: OctaneEnv, shot) -> None:
    info = services.config.connection(octane.connection_id)
    services.config.save_connection(info.alias, octane.connector_id, "Shop",
                                    {**info.params, "alm_priority_map": MAP}, connection_id=info.id)
    editor = ConnectionEditor(services)
    qtbot.addWidget(editor)
    editor.load(services.config.connection(octane.connection_id))
    form = _status_form(editor)
    table = form.editors["alm_priority_map"]
    assert isinstance(table, PairTableEdit)
    assert table.rows() == [("1-3", "Low"), ("4-6", "Medium"), ("7-10", "High")]
    assert form.values()["alm_priority_map"] == MAP  # untouched: the very same text
    assert editor.save()
    assert services.config.connection(octane.connection_id).params["alm_priority_map"] == MAP
    form = _status_form(editor)  # the editor rebuilt its forms from the saved row
    table = form.editors["alm_priority_map"]
    assert isinstance(table, PairTableEdit) and table.rows()[2] == ("7-10", "High")

    table.table.item(2, 1).setText("Critical")  # an edit: stored as compact JSON
    assert form.values()["alm_priority_map"] == '{"1-3":"Low","4-6":"Medium","7-10":"Critical"}'
    qtbot.mouseClick(table.add_btn, Qt.MouseButton.LeftButton)
    table.table.setItem(3, 0, table.table.item(0, 0).clone())  # row 4 repeats "1-3" with no priority
    with pytest.raises(FieldErrors) as info_bad:
        form.values()
    assert "row 4" in info_bad.value.errors["alm_priority_map"].message
    assert not editor.save()
    error = form.errors["alm_priority_map"]
    assert not error.isHidden() and "row 4" in error.text()
    editor.resize(1024, 700)
    shot(editor, "connection-priority-map-bad-row")
    assert services.config.connection(octane.connection_id).params["alm_priority_map"] == MAP  # nothing saved
    table.table.item(3, 0).setText("11-12")
    with pytest.raises(FieldErrors) as out_of_range:
        form.values()
    assert "row 4" in str(out_of_range.value) and "11-12" in str(out_of_range.value)
    table.table.setCurrentCell(3, 0)
    qtbot.mouseClick(table.remove_btn, Qt.MouseButton.LeftButton)
    assert editor.save()
    assert services.config.connection(octane.connection_id).params["alm_priority_map"] == \
        '{"1-3":"Low","4-6":"Medium","7-10":"Critical"}'


def test_a_stored_value_that_is_no_table_is_kept(qtbot) -> None:  # type: ignore[no-untyped-def]
    form = FieldForm(COMMON_CONNECTION_FIELDS)
    qtbot.addWidget(form)
    form.set_values({"alm_priority_map": "not json"})
    table = form.editors["alm_priority_map"]
    assert isinstance(table, PairTableEdit) and not table.note.isHidden()
    assert form.values()["alm_priority_map"] == "not json"
    form.set_values({})
    assert form.values()["alm_priority_map"] == "" and table.rows() == []


def _picker(form: FieldForm, name: str) -> ServerPicker:
    picker = form.editors[name]
    assert isinstance(picker, ServerPicker)
    return picker


def test_octane_phase_picker_uses_the_unsaved_form(qtbot, services: Services, octane: OctaneEnv,  # type: ignore[no-untyped-def]
                                                   runner: JobRunner, shot) -> None:
    system = services.registry.get("octane")
    forms: list[FieldForm] = []
    query = ChoiceQuery.stored(services, octane.connector_id, params=lambda: forms[0].values())
    form = FieldForm(connection_fields(system), pickers=Pickers(runner, query))
    forms.append(form)
    qtbot.addWidget(form)
    form.set_values(services.config.connection(octane.connection_id).params)
    assert not isinstance(form.editors["parent"], ServerPicker)  # only what the system can list
    picker = _picker(form, "close_phase")
    form.editors["item_type"].setCurrentIndex(form.editors["item_type"].findData("story"))  # unsaved
    with qtbot.waitSignal(runner.finished, timeout=20000):
        qtbot.mouseClick(picker.button, Qt.MouseButton.LeftButton)
        assert picker.handle is not None and not picker.button.isEnabled()  # running in the worker
    values = picker.values()
    form.resize(640, 900)
    shot(form, "form-octane-phase-picker")
    assert "Done" in values and "Closed" not in values  # the story phases, from the form's item type
    index = values.index("Done")
    picker.combo.setCurrentIndex(index)
    picker.combo.activated.emit(index)
    assert form.values()["close_phase"] == "Done" and picker.combo.currentText() == "Done"
    picker.combo.setEditText("My own phase")  # free text still accepted
    assert form.values()["close_phase"] == "My own phase"

    ws = _picker(form, "workspace")
    ws.set_text("abc")
    with qtbot.waitSignal(runner.finished, timeout=20000):
        qtbot.mouseClick(picker.button, Qt.MouseButton.LeftButton)
    error = form.errors["close_phase"]
    assert not error.isHidden() and "must be a number" in error.text()
    with qtbot.waitSignal(runner.finished, timeout=20000):
        qtbot.mouseClick(ws.button, Qt.MouseButton.LeftButton)
    workspace = str(octane.describe["connection_params"].get("workspace") or
                    services.config.connector_settings(octane.connector_id).params["workspace"])
    assert workspace in ws.values()


@pytest.fixture
def jira_server() -> Iterator[SandboxServer]:
    from almdesk.sandbox.jira import create

    server = serve(create(seed=7, mode="dc", issues=12))
    yield server
    server.stop()


def test_jira_issue_type_picker_lists_the_typed_project(qtbot, services: Services,  # type: ignore[no-untyped-def]
                                                        jira_server: SandboxServer, runner: JobRunner) -> None:
    desc = jira_server.describe()
    cid = services.config.save_connector("Jira demo", "jira", desc["params"], desc["secrets"])
    system = services.registry.get("jira")
    forms: list[FieldForm] = []
    query = ChoiceQuery.stored(services, cid, params=lambda: forms[0].values())
    form = FieldForm(system.connection_fields, pickers=Pickers(runner, query))
    forms.append(form)
    qtbot.addWidget(form)
    form.set_values(desc["connection_params"])
    project = _picker(form, "alm_project")
    with qtbot.waitSignal(runner.finished, timeout=20000):
        qtbot.mouseClick(project.button, Qt.MouseButton.LeftButton)
    assert {"DEMO", "SEC", "OPS"} <= set(project.values())
    sec = project.values().index("SEC")
    project.combo.activated.emit(sec)
    assert form.values()["alm_project"] == "SEC"  # picked, not saved
    issue_type = _picker(form, "jira_issue_type")
    with qtbot.waitSignal(runner.finished, timeout=20000):
        qtbot.mouseClick(issue_type.button, Qt.MouseButton.LeftButton)
    assert issue_type.values() and issue_type.status.text().endswith("listed")
    # the completer filters by what is typed, anywhere in the label
    completer = issue_type.combo.completer()
    completer.setCompletionPrefix(issue_type.values()[0][1:3].lower())
    assert completer.completionCount() >= 1
    done = _picker(form, "jira_done_statuses")  # a list field: a pick is added to the list
    assert done.text() == "Resolved,Closed"
    with qtbot.waitSignal(runner.finished, timeout=20000):
        qtbot.mouseClick(done.button, Qt.MouseButton.LeftButton)
    extra = next(v for v in done.values() if v not in ("Resolved", "Closed"))
    done.combo.activated.emit(done.values().index(extra))
    assert form.values()["jira_done_statuses"] == f"Resolved, Closed, {extra}"
    parsed = parse_fields(system.connection_fields, form.values())
    assert parsed["jira_done_statuses"] == ["Resolved", "Closed", extra] and parsed["alm_project"] == "SEC"
    project.set_text("")
    with qtbot.waitSignal(runner.finished, timeout=20000):
        qtbot.mouseClick(issue_type.button, Qt.MouseButton.LeftButton)
    assert "project key first" in form.errors["jira_issue_type"].text()
