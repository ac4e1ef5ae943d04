"""The connection editor: General (alias, connector, project, frequency, debug), the system's fields
by section, the connection's links, and its last test's steps.

Test, Dry Run and Sync Now run the form as seen (unsaved edits included: :meth:`ConnectionEditor.draft`)
and save nothing. Ctrl+S saves, Esc reverts a dirty form. The store is read through ``services.queries``.

Keyboard: Tab goes through the current tab's fields top to bottom, then Test / Delete / Save, then the
tab bar (Ctrl+Tab also switches tabs); every label and button has a mnemonic.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from almdesk.base.fields import FieldErrors
from almdesk.base.settings import ConnectionSettings
from almdesk.config import FREQUENCIES, ConnectionInfo, connection_fields
from almdesk.errors import ConfigError
from almdesk.jobs.context import JobEvent
from almdesk.jobs.record import JobResult, JobSpec
from almdesk.services import Services
from almdesk.services.choices import ChoiceQuery
from almdesk.services.queries import identity_problem, job_summary
from almdesk.ui.editor_base import SettingsEditor
from almdesk.ui.field_editors import Pickers
from almdesk.ui.forms import FieldForm, scrolled
from almdesk.ui.keyboard import buddy_label, chain_focus
from almdesk.ui.links_view import LinksView
from almdesk.ui.runner import JobRunner
from almdesk.ui.steps import StepList
from almdesk.ui.theme import color_css

SECTIONS = ("Target", "Scope", "Status")


class ConnectionEditor(SettingsEditor):
    """Edits one connection, with its links and its last test's steps in tabs. Signals: those of
    :class:`SettingsEditor`.

    The General tab says when another connection of the store syncs into the same ALM target with the
    same context (:func:`almdesk.sync.identity.identity_problem`), before the first sync."""

    MNEMONICS = frozenset("acpfbtdsc")  # the General labels, Test, Delete, Save, Copy diagnostic

    def __init__(self, services: Services, runner: JobRunner | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.runner = runner
        self._test_handle: int | None = None
        self.info: ConnectionInfo | None = None
        self.system_name = ""
        self.alias = QLineEdit()
        self.alias.setObjectName("connection_alias")
        self.connector = QComboBox()
        self.connector.setObjectName("connection_connector")
        self.project = QComboBox()
        self.project.setObjectName("connection_project")
        self.frequency = QComboBox()
        self.frequency.addItems(list(FREQUENCIES))
        self.frequency.setObjectName("connection_frequency")
        self.debug = QCheckBox("Record a redacted HTTP trace of each job (debug mode)")
        self.debug.setObjectName("connection_debug")
        self.errors: dict[str, QLabel] = {}
        general = QWidget()
        form = QFormLayout(general)
        for key, text, widget in (("alias", "&Alias *", self.alias), ("connector", "&Connector *", self.connector),
                                  ("project", "&Project *", self.project), ("frequency", "&Frequency", self.frequency),
                                  ("debug", "De&bug", self.debug)):
            box = QWidget()
            bl = QVBoxLayout(box)
            bl.setContentsMargins(0, 0, 0, 0)
            bl.setSpacing(2)
            bl.addWidget(widget)
            err = QLabel()
            err.setStyleSheet(color_css("failed"))
            err.setWordWrap(True)
            err.hide()
            bl.addWidget(err)
            self.errors[key] = err
            form.addRow(buddy_label(text, widget), box)
        self.last_job = QLabel()
        self.last_job.setWordWrap(True)
        self.last_job.setObjectName("last_job")
        form.addRow(QLabel("Last job"), self.last_job)  # no buddy: nothing to type there
        self.identity = QLabel()  # a shared ALM target with the same context, shown before any sync
        self.identity.setObjectName("connection_identity")
        self.identity.setWordWrap(True)
        self.identity.setStyleSheet(color_css("failed"))
        self.identity.hide()
        form.addRow(self.identity)
        self.links = LinksView(services)
        self.links.setObjectName("connection_links")
        self.steps = StepList()
        self.steps.setObjectName("connection_steps")
        self.steps.reset("Press Test Connection to check the connector's steps, then this connection's.")
        self.tabs = QTabWidget()
        self.tabs.addTab(general, "General")
        self.forms: dict[str, FieldForm] = {}
        self.alias.textEdited.connect(lambda _t: self._edited())
        for combo in (self.connector, self.project, self.frequency):
            combo.currentIndexChanged.connect(lambda _i: self._edited())
        self.connector.currentIndexChanged.connect(lambda _i: self._build_forms())
        self.debug.toggled.connect(lambda _v: self._edited())

        self.save_btn = QPushButton("&Save")
        self.save_btn.setObjectName("save")
        self.save_btn.setToolTip("Save the connection (Ctrl+S)")
        self.save_btn.clicked.connect(self.save)
        self.test_btn = QPushButton("&Test Connection")
        self.test_btn.setObjectName("test")
        self.test_btn.setToolTip("Test the connection as it is in the form, without saving it")
        self.test_btn.clicked.connect(self.test)
        self.test_btn.setVisible(runner is not None)
        self.notice = QLabel()  # "Saved connection X." after a save, until the next edit
        self.notice.setObjectName("connection_notice")
        self.notice.hide()
        self.del_btn = QPushButton("&Delete")
        self.del_btn.setObjectName("delete")
        self.del_btn.clicked.connect(self.delete)
        self.banner = QLabel()
        self.banner.setStyleSheet(color_css("failed"))
        self.banner.setWordWrap(True)
        self.banner.hide()
        buttons = QHBoxLayout()
        buttons.addWidget(self.test_btn)
        buttons.addStretch(1)
        buttons.addWidget(self.del_btn)
        buttons.addWidget(self.save_btn)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.tabs, 1)
        lay.addWidget(self.banner)
        lay.addWidget(self.notice)
        lay.addLayout(buttons)
        self.choices_stale = True  # filled by the first load() or refresh_choices()
        self.install_keys()
        if runner is not None:
            runner.job_event.connect(self._job_event)
            runner.finished.connect(self._job_finished)
        chain_focus(self.tab_stops())

    def refresh_choices(self) -> None:
        self.choices_stale = False
        targets = set(self.services.registry.alm_targets())  # a task source (SD Elements) is no target
        connectors = [(c.name, c.id) for c in self.services.config.connectors() if c.system in targets]
        for combo, items in ((self.connector, connectors),
                             (self.project, [(p["name"], p["name"]) for p in self.services.config.projects()])):
            current = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            for text, data in items:
                combo.addItem(text, data)
            idx = combo.findData(current)
            combo.setCurrentIndex(max(idx, 0))
            combo.blockSignals(False)
        self._build_forms()

    def _build_forms(self) -> None:
        cid = self.connector.currentData()
        if cid is None:
            return
        system_name = self.services.config.connector(int(cid)).system
        if system_name == self.system_name:
            return
        self.system_name = system_name
        while self.tabs.count() > 1:
            page = self.tabs.widget(1)
            self.tabs.removeTab(1)
            if page is not None and page is not self.links and page is not self.steps:
                page.deleteLater()  # the old system's forms go (and leave the Tab chain)
        system = self.services.registry.get(system_name)
        fields = connection_fields(system)
        pickers = None if self.runner is None else Pickers(self.runner, ChoiceQuery(
            self.services, system, lambda: self.services.config.connector_settings(int(self.connector.currentData())),
            self.params))
        self.forms = {}
        for section in SECTIONS:
            chosen = [f for f in fields if f.section == section]
            if chosen:
                form = FieldForm(chosen, pickers=pickers, taken=self.MNEMONICS)
                form.setObjectName(f"connection_form_{section.lower()}")
                form.changed.connect(self._edited)
                form.set_values(self.info.params if self.info else {})
                self.forms[section] = form
                self.tabs.addTab(scrolled(form), section)
        self.tabs.addTab(self.links, "Links")
        self.tabs.addTab(self.steps, "Test")
        chain_focus(self.tab_stops())

    def tab_stops(self) -> list[QWidget]:
        """Tab follows the form: the General fields, each section's, the buttons, the tab bar."""
        return [self.alias, self.connector, self.project, self.frequency, self.debug,
                *(w for form in self.forms.values() for w in form.focus_widgets()), self.links, self.steps,
                self.test_btn, self.del_btn, self.save_btn, self.tabs.tabBar()]

    def _edited(self) -> None:
        self._set_dirty(True)
        self.notice.hide()

    def load(self, info: ConnectionInfo | None) -> None:
        self.info = info
        if self.choices_stale:
            self.refresh_choices()
        self.banner.hide()
        self.notice.hide()
        for err in self.errors.values():
            err.hide()
        if info is not None:
            self.alias.setText(info.alias)
            self.connector.setCurrentIndex(self.connector.findText(info.connector))
            self.project.setCurrentIndex(self.project.findText(info.project))
            self.frequency.setCurrentText(info.frequency)
            self.debug.setChecked(info.debug_mode)
            self.system_name = ""
            self._build_forms()
            self.links.load(info.id)
            problem = identity_problem(self.services.store, self.services.registry, info.id)
            self.identity.setText(problem)
            self.identity.setVisible(bool(problem))
            job = job_summary(self.services.store, info.last_job_id)
            self.last_job.setText(job.detail if job else "never run")
        else:
            self.alias.clear()
            self.debug.setChecked(False)
            self.frequency.setCurrentText("manually")
            self.last_job.setText("never run")
            self.identity.hide()
            self.links.load(None)
            for form in self.forms.values():
                form.set_values({})
        for form in self.forms.values():
            form.clear_errors()
        self.del_btn.setEnabled(info is not None)
        if self._test_handle is None:
            self.steps.reset("Press Test Connection to check the connector's steps, then this connection's.")
        self._set_dirty(False)

    def stored(self) -> ConnectionInfo | None:
        return self.services.config.connection(self.info.id) if self.info else None

    def show_links(self, task_id: str = "") -> None:
        """The Links tab, filtered to ``task_id`` when given."""
        self.tabs.setCurrentWidget(self.links)
        if task_id:
            self.links.show_task(task_id)

    def params(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for form in self.forms.values():
            out.update(form.values())
        return out

    def save(self) -> bool:
        for err in self.errors.values():
            err.hide()
        for form in self.forms.values():
            form.clear_errors()
        self.banner.hide()
        connector = self.connector.currentData()
        try:
            cid = self.services.config.save_connection(
                self.alias.text(), int(connector) if connector is not None else "", self.project.currentText(),
                self.params(), frequency=self.frequency.currentText(), debug_mode=self.debug.isChecked(),
                connection_id=self.info.id if self.info else None)
        except ConfigError as exc:
            self._show_error(exc)
            return False
        self.load(self.services.config.connection(cid))
        text = f"Saved connection {self.alias.text()}."
        self.notice.setText("✔ " + text)
        self.notice.setStyleSheet(color_css("ok"))
        self.notice.show()
        self.saved.emit(cid)
        self.message.emit(text)
        return True

    def _clear_errors(self) -> None:
        for err in self.errors.values():
            err.hide()
        for form in self.forms.values():
            form.clear_errors()
        self.banner.hide()
        self.notice.hide()

    def draft(self) -> ConnectionSettings | None:
        """The form's current values as settings (over the chosen connector as stored), or None after
        showing why they are not valid. Saves nothing."""
        self._clear_errors()
        connector = self.connector.currentData()
        try:
            if connector is None:
                raise ConfigError("Choose a connector.", "Add one under Connectors first.", field="connector")
            return self.services.config.draft_connection(
                self.info.id if self.info else None, int(connector), self.project.currentText(), self.params(),
                alias=self.alias.text(), debug_mode=self.debug.isChecked())
        except ConfigError as exc:
            self._show_error(exc)
            return None

    def test(self) -> None:
        """Test Connection on the form as seen, in the worker; its steps fill the Test tab."""
        if self.runner is None or self._test_handle is not None:
            return
        draft = self.draft()
        if draft is None:
            return
        try:
            spec = self.services.test_spec(connection=draft)
        except ConfigError as exc:
            self._show_error(exc)
            return
        self.steps.reset(f"Testing {draft.alias}…")
        self.tabs.setCurrentWidget(self.steps)
        self.test_btn.setEnabled(False)
        self._test_handle = self.runner.submit(spec)

    def sync_spec(self, dry_run: bool) -> JobSpec | None:
        """The sync (or dry run) of the form as seen, or None after showing why it cannot run."""
        if self.info is None:
            self.banner.setText("Save the new connection first: a sync keeps its links under the saved "
                                "connection.")
            self.banner.show()
            return None
        draft = self.draft()
        if draft is None:
            return None
        try:
            return self.services.sync_spec(draft, dry_run=dry_run)
        except ConfigError as exc:
            self._show_error(exc)
            return None

    def _job_event(self, handle: int, ev: JobEvent) -> None:
        if handle == self._test_handle:
            self.steps.on_event(ev)

    def _job_finished(self, handle: int, result: JobResult | None) -> None:
        if handle != self._test_handle:
            return
        self._test_handle = None
        self.test_btn.setEnabled(True)
        self.steps.on_finished(result)
        failure = result.outcome.failure if result is not None else None
        if failure is not None and failure.field:
            self._show_error(ConfigError(failure.message, failure.hint, field=failure.field), switch=False)

    def _show_error(self, exc: ConfigError, *, switch: bool = True) -> None:
        errors = exc.errors if isinstance(exc, FieldErrors) else {exc.field or "": exc}
        unplaced = []
        first_tab = None
        for key, err in errors.items():
            if key in self.errors:
                self.errors[key].setText(f"{err.message} {err.hint}")
                self.errors[key].show()
                first_tab = 0 if first_tab is None else first_tab
                continue
            for i, (_section, form) in enumerate(self.forms.items(), start=1):
                if form.show_error(err):
                    first_tab = i if first_tab is None else first_tab
                    break
            else:
                unplaced.append(str(err))
        if first_tab is not None and switch:
            self.tabs.setCurrentIndex(first_tab)
        if unplaced and switch:
            self.banner.setText("\n".join(unplaced))
            self.banner.show()

    def delete(self) -> None:
        if self.info is None:
            return
        buttons = QMessageBox.StandardButton
        alias = self.info.alias
        if QMessageBox.question(self, "Delete connection", f"Delete connection {alias!r} and its links? Items in "
                                "the ALM are not touched.", buttons.Yes | buttons.No, buttons.No) != buttons.Yes:
            return
        self.services.config.delete_connection(self.info.id)
        self.load(None)
        self.deleted.emit()
        self.message.emit(f"Deleted connection {alias}.")
