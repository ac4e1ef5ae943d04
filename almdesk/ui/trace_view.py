"""The trace viewer: a debug-mode job's redacted HTTP exchanges, with details and "Copy as curl".

The trace file (JSON lines written by :class:`almdesk.net.trace.TraceRecorder`) is read in a
background thread so a large trace never freezes the window. Everything shown is already
redacted; "Copy as curl" keeps the «redacted» placeholders as they are. Each exchange's URL can be
copied (Copy URL, or the row's context menu: Open link / Copy link). Status colours are palette tones.
"""

from __future__ import annotations

import json
import shlex
import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QFont, QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from almdesk.net.trace import read_trace
from almdesk.ui import theme
from almdesk.ui.dialogs import LinkTable, RowsModel, error_label, refilter, show_error
from almdesk.ui.icons import icon
from almdesk.ui.link_actions import copy_link

STATUS_CLASSES = ("All", "2xx", "3xx", "4xx", "5xx")
STATUS_COLORS = {2: "ok", 3: "muted", 4: "warning", 5: "failed"}  # tones of almdesk.ui.theme
SKIP_CURL_HEADERS = {"content-length", "accept-encoding", "connection", "user-agent"}


def curl_command(entry: dict[str, Any]) -> str:
    """One exchange's request as a curl command line (redacted values stay redacted)."""
    parts = ["curl", "-X", str(entry.get("method") or "GET"), shlex.quote(str(entry.get("url") or ""))]
    for key, value in (entry.get("request_headers") or {}).items():
        if key.lower() not in SKIP_CURL_HEADERS:
            parts += ["-H", shlex.quote(f"{key}: {value}")]
    body = entry.get("request_body") or ""
    if body:
        parts += ["--data-raw", shlex.quote(str(body))]
    return " ".join(parts)


def _pretty(body: str) -> str:
    text = body.strip()
    if text[:1] in ("{", "["):
        try:
            return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
        except ValueError:
            pass
    return body


def describe(entry: dict[str, Any]) -> str:
    """The full text of one exchange for the detail pane."""
    lines = [f"{entry.get('method', '')} {entry.get('url', '')}", ""]
    lines += [f"{k}: {v}" for k, v in (entry.get("request_headers") or {}).items()]
    body = entry.get("request_body") or ""
    if body:
        lines += ["", _pretty(str(body))]
    lines += ["", "─" * 60, f"HTTP {entry.get('status', '')}  ·  {entry.get('elapsed_ms', 0)} ms", ""]
    lines += [f"{k}: {v}" for k, v in (entry.get("response_headers") or {}).items()]
    body = entry.get("response_body") or ""
    if body:
        lines += ["", _pretty(str(body))]
    return "\n".join(lines)


class _StatusFilter(QSortFilterProxyModel):
    """Keeps rows of one status class (2xx …) and rows whose URL contains the search text."""

    def __init__(self, model: RowsModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setSourceModel(model)
        self.rows_model = model
        self.status_class = 0
        self.needle = ""

    def set_filter(self, status_class: int, needle: str) -> None:
        self.status_class = status_class
        self.needle = needle.strip().lower()
        refilter(self)

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex) -> bool:
        row = self.rows_model.rows[source_row]
        status = row[2]
        if self.status_class and not (isinstance(status, int) and status // 100 == self.status_class):
            return False
        return not self.needle or self.needle in str(row[4]).lower()


class _Loader(QObject):
    """Reads a trace file in a thread and hands the entries back through a queued signal."""

    loaded = Signal(object, str)  # entries, error text

    def start(self, path: Path) -> None:
        threading.Thread(target=self._run, args=(path,), name="trace-loader", daemon=True).start()

    def _run(self, path: Path) -> None:
        try:
            entries, error = read_trace(path), ""
        except (OSError, ValueError) as exc:
            entries, error = [], f"Could not read the trace {path}: {exc}"
        try:
            self.loaded.emit(entries, error)
        except RuntimeError:  # the viewer was closed before the file was read
            pass


class TraceView(QDialog):
    """A table of the exchanges (#, method, status, ms, URL), a status-class filter, details, curl."""

    def __init__(self, path: str | Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path = Path(path)
        self.entries: list[dict[str, Any]] = []
        self.setWindowTitle(f"HTTP trace — {self.path.name}")
        self.model = RowsModel(["#", "Method", "Status", "ms", "URL"], parent=self)
        self.proxy = _StatusFilter(self.model, self)
        self.table = LinkTable(self.model)
        self.table.setObjectName("trace_table")
        self.table.setModel(self.proxy)
        self.table.selectionModel().currentRowChanged.connect(lambda cur, _prev: self._show(cur))
        self.status_filter = QComboBox()
        self.status_filter.setObjectName("status_filter")
        self.status_filter.addItems(list(STATUS_CLASSES))
        self.search = QLineEdit()
        self.search.setObjectName("trace_search")
        self.search.setPlaceholderText("Filter by URL")
        self.status_filter.currentIndexChanged.connect(lambda _i: self._refilter())
        self.search.textChanged.connect(lambda _t: self._refilter())
        self.summary = QLabel("Reading the trace…")
        self.summary.setObjectName("trace_summary")
        self.error = error_label("trace_error")
        self.detail = QPlainTextEdit()
        self.detail.setObjectName("trace_detail")
        self.detail.setReadOnly(True)
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        self.detail.setFont(mono)
        self.detail.setPlaceholderText("Select an exchange to see its headers and bodies.")
        self.url_btn = QPushButton(icon("copy"), "Copy &URL")
        self.url_btn.setObjectName("copy_url")
        self.url_btn.setEnabled(False)
        self.url_btn.clicked.connect(self.copy_url)
        self.curl_btn = QPushButton(icon("copy"), "Copy as &curl")
        self.curl_btn.setObjectName("copy_curl")
        self.curl_btn.setEnabled(False)
        self.curl_btn.clicked.connect(self.copy_curl)
        note = QLabel("Secrets, tokens, cookies and Authorization values were redacted when recorded.")
        note.setStyleSheet(theme.color_css("muted"))

        top = QHBoxLayout()
        top.addWidget(QLabel("Status:"))
        top.addWidget(self.status_filter)
        top.addWidget(self.search, 1)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.detail, 1)
        row = QHBoxLayout()
        row.addWidget(note, 1)
        row.addWidget(self.url_btn)
        row.addWidget(self.curl_btn)
        rl.addLayout(row)
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.table, 1)
        ll.addWidget(self.summary)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setSizes([560, 520])
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.error)
        lay.addWidget(split, 1)
        self.resize(1120, 640)
        self.loader = _Loader(self)
        self.loader.loaded.connect(self._loaded)
        self.loading = True
        self.loader.start(self.path)

    def _loaded(self, entries: list[dict[str, Any]], error: str) -> None:
        self.loading = False
        self.entries = entries
        if error:
            show_error(self.error, error, "The file may have been moved or deleted; run the job again in debug mode.")
        rows, colors = [], []
        for i, e in enumerate(entries, start=1):
            status = e.get("status")
            rows.append((i, e.get("method", ""), status, e.get("elapsed_ms", ""), e.get("url", "")))
            colors.append(STATUS_COLORS.get(status // 100, "") if isinstance(status, int) else "")
        self.model.set_rows(rows, urls=[str(e.get("url") or "") for e in entries], colors=colors)
        for col, width in enumerate((40, 64, 56, 64)):
            self.table.setColumnWidth(col, width)
        self._refilter()
        if self.proxy.rowCount():
            self.table.selectRow(0)

    def _refilter(self) -> None:
        choice = self.status_filter.currentText()
        self.proxy.set_filter(int(choice[0]) if choice[0].isdigit() else 0, self.search.text())
        shown, total = self.proxy.rowCount(), len(self.entries)
        failures = sum(1 for e in self.entries if isinstance(e.get("status"), int) and e["status"] >= 400)
        text = f"{total} exchange(s)" if shown == total else f"{shown} of {total} exchange(s)"
        self.summary.setText(text + (f", {failures} with an error status" if failures else ""))
        if not self.loading and not total and not self.error.isVisible():
            self.summary.setText("The trace is empty: the job made no HTTP request.")

    def current_entry(self) -> dict[str, Any] | None:
        index = self.table.currentIndex()
        if not index.isValid():
            return None
        row = self.proxy.mapToSource(index).row()
        return self.entries[row] if 0 <= row < len(self.entries) else None

    def _show(self, index: QModelIndex) -> None:
        entry = None
        if index.isValid():
            row = self.proxy.mapToSource(index).row()
            entry = self.entries[row] if 0 <= row < len(self.entries) else None
        self.detail.setPlainText(describe(entry) if entry else "")
        self.curl_btn.setEnabled(entry is not None)
        self.url_btn.setEnabled(bool(entry and entry.get("url")))

    def copy_url(self) -> str:
        entry = self.current_entry()
        url = str(entry.get("url") or "") if entry else ""
        copy_link(url)
        return url

    def copy_curl(self) -> str:
        entry = self.current_entry()
        if entry is None:
            return ""
        text = curl_command(entry)
        QGuiApplication.clipboard().setText(text)
        return text
