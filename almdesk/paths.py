"""Where almdesk keeps its files: platformdirs, moved by ``--data-dir`` or ``ALMDESK_HOME``."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs


@dataclass(frozen=True)
class Paths:
    """The data directory and the files in it."""

    root: Path

    @classmethod
    def resolve(cls, data_dir: str | os.PathLike[str] | None = None) -> Paths:
        chosen = data_dir or os.environ.get("ALMDESK_HOME") or platformdirs.user_data_dir("almdesk", "almdesk")
        root = Path(chosen).expanduser().resolve()
        root.mkdir(parents=True, exist_ok=True)
        return cls(root)

    @property
    def database(self) -> Path:
        return self.root / "almdesk.db"

    @property
    def logs(self) -> Path:
        path = self.root / "logs"
        path.mkdir(exist_ok=True)
        return path

    @property
    def log_file(self) -> Path:
        return self.logs / "almdesk.log"

    @property
    def traces(self) -> Path:
        path = self.root / "traces"
        path.mkdir(exist_ok=True)
        return path

    @property
    def certs(self) -> Path:
        path = self.root / "certs"
        path.mkdir(exist_ok=True)
        return path

    @property
    def bundles(self) -> Path:
        path = self.root / "bundles"
        path.mkdir(exist_ok=True)
        return path
