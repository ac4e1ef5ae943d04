"""The base of the Gate and Create Defect dialogs: the target (connection, or connector + workspace) in a
form, inline errors under each input, one job at a time on the runner, and the keyboard (Tab in form order,
mnemonics on the row labels).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QFormLayout, QLabel, QPushButton, QWidget

from almdesk.errors import ConfigError
from almdesk.jobs.record import JobResult, JobSpec
from almdesk.services import Services
from almdesk.ui.dialogs import NO_TARGET_HINT, TargetBox, error_label, show_error, with_error
from almdesk.ui.keyboard import buddy_label, chain_focus, mnemonic_of, tab_to_next, with_mnemonic
from almdesk.ui.runner import JobRunner


class TargetJobDialog(QDialog):
    """Base of the Gate and Create Defect dialogs: a :class:`TargetBox` at the top of a form, an inline
    error label under each input, a general error label, and one job at a time on the runner.

    A subclass adds its inputs with :meth:`add_input` (and :meth:`register` for one shown inside
    another row), calls :meth:`start` at the end of its ``__init__``, submits with :meth:`make_spec`,
    and implements :meth:`set_running` and :meth:`job_done`.
    ``FIELD_ALIASES`` maps the field names a failed job may report to the dialog's inputs.

    Keyboard: each row's label is its input's buddy with a mnemonic (letters the dialog's buttons use
    are left to them), and :meth:`start` makes Tab follow the form: the target, the workspace, the
    inputs top to bottom, then the buttons given (:meth:`focus_order`).
    """

    FIELD_ALIASES: dict[str, str] = {}

    def __init__(self, services: Services, runner: JobRunner, connection_id: int | None, connector_id: int | None,
                 parent: QWidget | None, *, prefix: str, fields: Sequence[str], target_label: str,
                 label_alignment: Qt.AlignmentFlag) -> None:
        super().__init__(parent)
        self.services = services
        self.runner = runner
        self.handle: int | None = None
        self.job_result: JobResult | None = None
        self.prefix = prefix
        self._attached = False
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.target = TargetBox(services, runner, connection_id, connector_id)
        self.errors: dict[str, QLabel] = {name: error_label(f"error_{name}") for name in fields}
        self.inputs: dict[str, QWidget] = {}
        self.register("target", self.target.combo)
        self.register("workspace", self.target.workspace)
        self.form = QFormLayout()
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | label_alignment)
        self.labels_: list[tuple[QLabel, QWidget]] = []  # (row label, its input), for mnemonics
        self._row(target_label, with_error(self.target, self.errors["target"]), self.target.combo)
        self.workspace_box = with_error(self.target.workspace_row, self.errors["workspace"])
        self._row("Workspace", self.workspace_box, self.target.workspace)
        self.target.changed.connect(self._target_changed)
        self.error = error_label(f"{prefix}_error")
        self.status = QLabel()
        self.status.setObjectName(f"{prefix}_status")
        self.status.setWordWrap(True)

    def register(self, name: str, widget: QWidget) -> None:
        """Make ``widget`` the input errors about ``name`` focus (object name ``<prefix>_<name>``)."""
        widget.setObjectName(f"{self.prefix}_{name}")
        self.inputs[name] = widget

    def add_input(self, label: str, name: str, widget: QWidget, shown: QWidget | None = None) -> None:
        """Add a form row ``label`` showing ``shown`` (default ``widget``) with ``name``'s error under it."""
        self.register(name, widget)
        self._row(label, with_error(shown or widget, self.errors[name]), widget)

    def _row(self, text: str, box: QWidget, buddy: QWidget) -> None:
        label = buddy_label(text, buddy)
        self.form.addRow(label, box)
        self.labels_.append((label, buddy))

    def focus_order(self) -> list[QWidget]:
        """The widgets after the form's inputs in the Tab order (the subclass's buttons…)."""
        return []

    def _keyboard(self) -> None:
        """Mnemonics for the row labels (after the buttons' own) and the Tab order of the form."""
        taken = {mnemonic_of(b.text()) for b in self.findChildren(QPushButton)} - {""}
        for label, _buddy in self.labels_:
            label.setText(with_mnemonic(label.text(), taken))
        chain_focus(self.tab_stops())

    def tab_stops(self) -> list[QWidget]:
        """The form's inputs top to bottom, then :meth:`focus_order`."""
        rows = [self.form.itemAt(row, QFormLayout.ItemRole.FieldRole) for row in range(self.form.rowCount())]
        inputs = [w for w in (item.widget() if item is not None else None for item in rows) if w is not None]
        return [*inputs, *self.focus_order()]

    def focusNextPrevChild(self, next: bool) -> bool:
        return tab_to_next(self.tab_stops(), next, wrap=True) or super().focusNextPrevChild(next)

    def start(self, button: QPushButton, what: str) -> None:
        """End of set-up: show the workspace row as the target needs, follow the runner, and say when
        there is nothing to run on (``what``: "run a gate on"), disabling ``button``."""
        self.target.pick_btn.setText("&Pick…")
        self._target_changed()
        self._keyboard()
        self.runner.finished.connect(self._finished)
        self._attached = True
        if self.target.empty():
            button.setEnabled(False)
            show_error(self.error, f"There is no connector or connection to {what}.", NO_TARGET_HINT)

    def _target_changed(self) -> None:
        _connection, connector = self.target.ids()
        self.form.setRowVisible(self.workspace_box, connector is not None)
        label = self.form.labelForField(self.workspace_box)
        if isinstance(label, QLabel):
            text = self.target.workspace_label()  # keeps its mnemonic letter when it has that letter
            letter = mnemonic_of(label.text())
            i = text.lower().find(letter) if letter else -1
            label.setText(text[:i] + "&" + text[i:] if i >= 0 else text)

    def make_spec(self, build: Callable[[int | None, int | None], JobSpec]) -> JobSpec | None:
        """``build(connection_id, connector_id)`` for the current target after clearing old errors; None
        (with the error shown under the input it names) when the inputs are refused."""
        self.clear_errors()
        connection, connector = self.target.ids()
        try:
            return build(connection, connector)
        except ConfigError as exc:
            self.show_failure(exc.message, exc.hint, exc.field)
            return None

    def set_running(self, running: bool) -> None:
        """Enable the buttons for a running job or for the next one (the subclass's buttons)."""
        raise NotImplementedError

    def _finished(self, handle: int, result: JobResult | None) -> None:
        if handle != self.handle:
            return
        self.handle = None
        self.job_result = result
        self.set_running(False)
        if result is None or result.state == "cancelled":
            self.status.setText("Cancelled.")
            return
        self.job_done(result)

    def job_done(self, result: JobResult) -> None:
        """The job ended (not cancelled): show its result; :meth:`job_failed` shows a failure."""
        raise NotImplementedError

    def job_failed(self, result: JobResult, status: str) -> None:
        """Say ``status`` and show the job's typed failure under the input its ``field`` names."""
        self.status.setText(status)
        why = result.outcome.why()
        self.show_failure(why.message, why.hint, why.field)

    def clear_errors(self) -> None:
        for label in (*self.errors.values(), self.error):
            show_error(label, "")

    def show_failure(self, message: str, hint: str = "", field: str | None = None) -> None:
        """Show an error under the input it names (or above the buttons) and focus that input."""
        name = self.target.input_for(field)
        name = self.FIELD_ALIASES.get(name, name)
        if name not in self.errors and field:
            message += f" (setting {field})"
        show_error(self.errors.get(name, self.error), message, hint)
        widget = self.inputs.get(name)
        if widget is not None:
            widget.setFocus()

    def done(self, code: int) -> None:
        if self._attached:
            self._attached = False
            self.runner.finished.disconnect(self._finished)
        super().done(code)
