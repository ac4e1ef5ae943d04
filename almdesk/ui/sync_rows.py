"""The sync console's rows: Qt's own item model holding them (no Python runs when a view paints it)
and the "Show" filter over them (:class:`ShowFilter`, attached only while a filter is chosen)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, QSortFilterProxyModel
from PySide6.QtGui import QBrush, QColor, QFont, QStandardItem, QStandardItemModel

from almdesk.ui.dialogs import LINK_COLOR, refilter


class ItemRowsModel(QStandardItemModel):
    """The console's rows in Qt's item model (text, colour, link look stored in C++), with the row
    tuples, URLs and colours also kept as Python lists (filter, tests, :class:`LinkTable` clicks).

    Same interface as :class:`~almdesk.ui.dialogs.RowsModel` (``rows``, ``urls``, ``colors``,
    ``url_column``, ``set_rows``, ``append_rows``), but no Python runs when a view paints it."""

    def __init__(self, headers: Sequence[str], url_column: int | None = None, parent: QObject | None = None) -> None:
        super().__init__(0, len(headers), parent)
        self.setHorizontalHeaderLabels(list(headers))
        self.url_column = url_column
        self.rows: list[tuple[Any, ...]] = []
        self.urls: list[str] = []
        self.colors: list[str] = []
        self._link_font = QFont()
        self._link_font.setUnderline(True)
        self._link_brush = QBrush(LINK_COLOR)
        self._brushes: dict[str, QBrush] = {}

    def _items(self, row: tuple[Any, ...], url: str, color: str) -> list[QStandardItem]:
        brush = self._brushes.setdefault(color, QBrush(QColor(color))) if color else None
        # as few Qt calls as possible: each one may wait for a busy worker thread to hand back the GIL
        # (the table is read-only through its edit triggers; the message, often cut, has its tooltip)
        items = []
        last = len(row) - 1
        for col, value in enumerate(row):
            text = "" if value is None else str(value)
            item = QStandardItem(text)
            if col == self.url_column and url:
                item.setForeground(self._link_brush)
                item.setFont(self._link_font)
                item.setToolTip(url)
            elif brush is not None:
                item.setForeground(brush)
            if col == last and text:
                item.setToolTip(text)
            items.append(item)
        return items

    def set_rows(self, rows: Sequence[tuple[Any, ...]], urls: Sequence[str] = (), colors: Sequence[str] = ()) -> None:
        self.removeRows(0, self.rowCount())
        self.rows, self.urls, self.colors = [], [], []
        self.append_rows(rows, urls, colors)

    def append_rows(self, rows: Sequence[tuple[Any, ...]], urls: Sequence[str] = (),
                    colors: Sequence[str] = ()) -> None:
        if not rows:
            return
        urls = list(urls) or [""] * len(rows)
        colors = list(colors) or [""] * len(rows)
        self.rows.extend(rows)  # first: a filter asked about a new row reads it here
        self.urls.extend(urls)
        self.colors.extend(colors)
        for row, url, color in zip(rows, urls, colors, strict=True):
            self.appendRow(self._items(row, url, color))


class ShowFilter(QSortFilterProxyModel):
    """"Changes only" / "Failures only" over the console's rows; attached only while one is chosen
    (its ``filterAcceptsRow`` is Python, called for every row inserted)."""

    def __init__(self, model: ItemRowsModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.rows_model = model
        self.mode = 0

    def set_mode(self, mode: int) -> None:
        self.mode = mode
        if mode and self.sourceModel() is not self.rows_model:
            self.setSourceModel(self.rows_model)
        elif not mode and self.sourceModel() is self.rows_model:
            self.setSourceModel(QStandardItemModel(self))
        else:
            refilter(self)

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex) -> bool:
        if self.mode == 0:
            return True
        _task, action, _key, status, _msg = self.rows_model.rows[source_row]
        if self.mode == 2:
            return bool(status == "failed")
        return action not in ("link", "skip", "unchanged")
