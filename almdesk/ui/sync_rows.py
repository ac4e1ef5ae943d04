"""The sync console's rows: Qt's own item model holding them (no Python runs when a view paints it)
and the "Show" filter over them (:class:`ShowFilter`, attached only while a filter is chosen); and
:class:`Eta`, the time-left estimate the console and the job dock show."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, QSortFilterProxyModel
from PySide6.QtGui import QBrush, QFont, QStandardItem, QStandardItemModel

from almdesk.ui import theme
from almdesk.ui.dialogs import refilter


class ItemRowsModel(QStandardItemModel):
    """The console's rows in Qt's item model (text, colour, link look stored in C++), with the row
    tuples, URLs and colours also kept as Python lists (filter, tests, :class:`LinkTable` clicks).

    Same interface as :class:`~almdesk.ui.dialogs.RowsModel` (``rows``, ``urls``, ``colors``,
    ``url_column``, ``set_rows``, ``append_rows``), but no Python runs when a view paints it.
    A row's colour is a tone name of :mod:`almdesk.ui.theme` (taken from the palette when the row is added)."""

    def __init__(self, headers: Sequence[str], url_column: int | None = None, parent: QObject | None = None) -> None:
        super().__init__(0, len(headers), parent)
        self.setHorizontalHeaderLabels(list(headers))
        self.url_column = url_column
        self.rows: list[tuple[Any, ...]] = []
        self.urls: list[str] = []
        self.colors: list[str] = []
        self._link_font = QFont()
        self._link_font.setUnderline(True)
        self._link_brush = QBrush(theme.tone("link"))
        self._brushes: dict[str, QBrush] = {}

    def _items(self, row: tuple[Any, ...], url: str, color: str) -> list[QStandardItem]:
        brush = self._brushes.setdefault(color, QBrush(theme.tone(color))) if color else None
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


ETA_MIN_ITEMS = 10  # items done before an ETA is shown…
ETA_MIN_SECONDS = 5.0  # …over at least this long since the first one


class Eta:
    """Time left from the rate since the first determinate progress (connecting and planning, before
    it, are not part of the rate): "estimating…" until ``ETA_MIN_ITEMS`` were done over at least
    ``ETA_MIN_SECONDS``, then "about 3 min 10 s left"; "" once done. ``clock`` is a test's own."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.start: tuple[float, int, int] | None = None  # (time, done, total) of the first determinate progress

    def text(self, done: int, total: int) -> str:
        if total <= 0 or done >= total:
            return ""
        now = self.clock()
        if self.start is None or self.start[2] != total or done < self.start[1]:
            self.start = (now, done, total)  # the first item (or a new total): the rate starts here
        since, first, _total = self.start
        items, seconds = done - first, now - since
        if items < ETA_MIN_ITEMS or seconds < ETA_MIN_SECONDS:
            return "estimating…"
        return f"about {duration(seconds / items * (total - done))} left"


def duration(seconds: float) -> str:
    """``seconds`` for people: "4.2 s", "12 s", "3 min 05 s", "2 h 07 min"."""
    seconds = max(seconds, 0.0)
    if seconds < 60:
        return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
