"""The New project dialog of the Projects page: name (required), business unit and application, with inline
errors; ``project_id`` is set once the project is created. No signals (``exec()`` and read ``project_id``).
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from almdesk.errors import ConfigError
from almdesk.services import Services
from almdesk.ui.dialogs import error_label, show_error


class NewProjectDialog(QDialog):
    """Name (required), business unit and application, with inline errors."""

    def __init__(self, services: Services, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.project_id: int | None = None
        self.setWindowTitle("New project")
        self.name = QLineEdit()
        self.name.setObjectName("project_name")
        self.business_unit = QLineEdit()
        self.business_unit.setObjectName("project_business_unit")
        self.application = QLineEdit()
        self.application.setObjectName("project_application")
        self.name_error = error_label("project_name_error")
        self.error = error_label("project_error")
        box = QWidget()
        bl = QVBoxLayout(box)
        bl.setContentsMargins(0, 0, 0, 0)
        bl.setSpacing(2)
        bl.addWidget(self.name)
        bl.addWidget(self.name_error)
        form = QFormLayout()
        name_label = QLabel("&Name *")
        name_label.setBuddy(self.name)
        form.addRow(name_label, box)
        form.addRow("&Business unit", self.business_unit)
        form.addRow("&Application", self.application)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("C&reate")
        self.buttons.accepted.connect(self.create_project)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("A project holds the tasks that connections sync into an ALM,\n"
                             "named like SD Elements: business unit / application / project."))
        lay.addLayout(form)
        lay.addWidget(self.error)
        lay.addWidget(self.buttons)
        self.setMinimumWidth(460)

    def create_project(self) -> None:
        show_error(self.name_error, "")
        show_error(self.error, "")
        try:
            self.project_id = self.services.config.add_project(self.name.text(), self.business_unit.text(),
                                                               self.application.text())
        except ConfigError as exc:
            show_error(self.name_error if exc.field == "name" else self.error, exc.message, exc.hint)
            self.name.setFocus()
            return
        self.accept()
