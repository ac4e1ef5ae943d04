"""Export and import of connectors and connections (SD Elements JSON shapes), secrets left out.

Both use :mod:`almdesk.transfer` (``export_config``, ``plan_import``, ``apply_import``). An import
first shows what it will add and asks for the secrets the file cannot carry; nothing is written
until the user confirms, and a rejected file changes nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QMessageBox,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from almdesk.base.fields import FieldKind
from almdesk.config import NETWORK_FIELDS
from almdesk.errors import UserFacingError
from almdesk.services import Services
from almdesk.ui.dialogs import error_label, show_error
from almdesk.ui.icons import icon

UNAVAILABLE = "Configuration import/export is not available in this build (almdesk.transfer is missing)."


def _transfer() -> Any:
    try:
        from almdesk import transfer
    except ImportError:
        return None
    return transfer


def export_dialog(parent: QWidget | None, services: Services, path: str | None = None) -> str | None:
    """Ask where to save, write the configuration (no secrets) as JSON; returns the path written."""
    transfer = _transfer()
    if transfer is None:
        QMessageBox.information(parent, "Export configuration", UNAVAILABLE)
        return None
    if path is None:
        path, _f = QFileDialog.getSaveFileName(parent, "Export configuration",
                                               str(Path.home() / "almdesk-config.json"), "JSON (*.json)")
    if not path:
        return None
    try:
        doc = transfer.export_config(services.config)
        Path(path).write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    except UserFacingError as exc:
        QMessageBox.warning(parent, "Export failed", str(exc))
        return None
    except OSError as exc:
        QMessageBox.warning(parent, "Export failed", f"Could not write {path}: {exc.strerror or exc}.\n"
                            "Choose a folder you can write to.")
        return None
    results = doc.get("results", []) if isinstance(doc, dict) else []
    QMessageBox.information(parent, "Export configuration",
                            f"Exported {len(results)} item(s) to {path}.\nSecrets were left out; the import "
                            "asks for them.")
    return path


class SecretsDialog(QDialog):
    """Asks for the secrets an imported file lacks: one masked field per connector secret."""

    def __init__(self, missing: dict[str, list[str]], summary: str, parent: QWidget | None = None, *,
                 required: dict[str, list[str]] | None = None, labels: dict[tuple[str, str], str] | None = None,
                 ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Import configuration")
        self.setWindowIcon(icon("import"))
        self.edits: dict[tuple[str, str], QLineEdit] = {}
        intro = QLabel(summary + ("\n\nThe file carries no secrets: enter them now, the proxy password of a "
                                  "connector behind an authenticated proxy included (* = required; an optional one "
                                  "can be entered later in the connector's form). They go to the keyring only."
                                  if missing else ""))
        intro.setWordWrap(True)
        body = QWidget()
        bl = QVBoxLayout(body)
        for connector, fields in missing.items():
            group = QGroupBox(f"Connector {connector}")
            form = QFormLayout(group)
            for name in fields:
                edit = QLineEdit()
                edit.setEchoMode(QLineEdit.EchoMode.Password)
                edit.setObjectName(f"secret_{connector}_{name}")
                needed = name in (required or {}).get(connector, [])
                edit.setPlaceholderText("required" if needed else "optional")
                label = (labels or {}).get((connector, name), name)
                form.addRow(label + (" *" if needed else ""), edit)
                self.edits[(connector, name)] = edit
            bl.addWidget(group)
        bl.addStretch(1)
        area = QScrollArea()
        area.setWidgetResizable(True)
        area.setWidget(body)
        area.setVisible(bool(missing))
        self.error = error_label("import_error")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("&Import")
        ok.setIcon(icon("import"))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(intro)
        lay.addWidget(area, 1)
        lay.addWidget(self.error)
        lay.addWidget(buttons)
        self.resize(520, 420 if missing else 200)

    def secrets(self) -> dict[str, dict[str, str]]:
        out: dict[str, dict[str, str]] = {}
        for (connector, name), edit in self.edits.items():
            if edit.text():
                out.setdefault(connector, {})[name] = edit.text()
        return out


def _plan_summary(plan: Any, path: str) -> str:
    """What the import will add, in a few lines (names, warnings, secrets that were ignored)."""
    lines = [f"Importing {Path(path).name} adds:"]
    parts = (("connectors", "connector(s)", "name"), ("connections", "connection(s)", "alias"))
    for attr, label, key in parts:
        items = list(getattr(plan, attr, None) or [])
        names = [str(getattr(i, key, i)) for i in items]
        shown = ", ".join(names[:8]) + (f" and {len(names) - 8} more" if len(names) > 8 else "")
        lines.append(f"  • {len(items)} {label}" + (f": {shown}" if shown else ""))
    projects = [p[0] if isinstance(p, tuple | list) else str(p) for p in getattr(plan, "projects", None) or []]
    if projects:
        lines.append(f"  • {len(projects)} new project(s): {', '.join(projects[:8])}")
    for warning in list(getattr(plan, "warnings", None) or [])[:5]:
        lines.append(f"⚠ {warning}")
    ignored = list(getattr(plan, "secrets_in_file", None) or [])
    if ignored:
        lines.append("⚠ The file contains secret values (" + "; ".join(ignored[:5]) + "); they are NOT imported.")
    return "\n".join(lines)


def _result_summary(result: Any, path: str) -> str:
    if not isinstance(result, dict):
        return f"Imported {Path(path).name}."
    counts = ", ".join(f"{result[k]} {k}" for k in ("connectors", "connections", "projects")
                       if isinstance(result.get(k), int))
    lines = [f"Imported {Path(path).name}: {counts or 'done'}."]
    lines += [f"⚠ {w}" for w in result.get("warnings") or []]
    if result.get("secrets_note"):
        lines.append(str(result["secrets_note"]))
    return "\n".join(lines)


def _labels(services: Services, plan: Any) -> dict[tuple[str, str], str]:
    """(connector name, secret field) → the field's label, from each planned connector's system."""
    out: dict[tuple[str, str], str] = {}
    for pc in getattr(plan, "connectors", None) or []:
        try:
            fields = services.registry.get(str(getattr(pc, "system", ""))).connector_fields
        except UserFacingError:
            continue
        for f in (*fields, *NETWORK_FIELDS):
            if f.kind is FieldKind.SECRET:
                out[(str(getattr(pc, "name", "")), f.name)] = f.label
    return out


def import_dialog(parent: QWidget | None, services: Services, path: str | None = None) -> bool:
    """Ask for a file, show what it adds, ask for missing secrets, import. True when anything changed."""
    transfer = _transfer()
    if transfer is None:
        QMessageBox.information(parent, "Import configuration", UNAVAILABLE)
        return False
    if path is None:
        path, _f = QFileDialog.getOpenFileName(parent, "Import configuration", str(Path.home()),
                                               "JSON (*.json);;All files (*)")
    if not path:
        return False
    try:
        plan = transfer.plan_import(services.config, path)
    except UserFacingError as exc:
        QMessageBox.warning(parent, "Cannot import", f"{exc.message}\n\n{exc.hint}".strip())
        return False
    dialog = SecretsDialog(dict(getattr(plan, "missing_secrets", {}) or {}), _plan_summary(plan, path), parent,
                           required=dict(getattr(plan, "required_secrets", {}) or {}), labels=_labels(services, plan))
    try:
        while dialog.exec() == QDialog.DialogCode.Accepted:
            try:
                result = transfer.apply_import(services.config, plan, dialog.secrets())
            except UserFacingError as exc:
                show_error(dialog.error, exc.message, exc.hint)
                continue
            QMessageBox.information(parent, "Import configuration", _result_summary(result, path))
            return True
        return False
    finally:
        dialog.deleteLater()
