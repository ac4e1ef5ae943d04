"""Reading an import file into connector and connection objects; the plan's data; error collection."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from almdesk.base.fields import FieldErrors
from almdesk.errors import ConfigError


@dataclass
class PlannedConnector:
    name: str
    system: str
    params: dict[str, Any]  # raw values keyed by almdesk field names (the field schema parses them)
    network: dict[str, Any]
    inaccessible: bool = False
    connection_defaults: dict[str, Any] = field(default_factory=dict)
    source_id: Any = None


@dataclass
class PlannedConnection:
    alias: str
    connector: str
    project: str
    params: dict[str, Any]
    frequency: str = "manually"
    debug_mode: bool = False


@dataclass
class ImportPlan:
    """What an import would write; nothing is written until :func:`apply_import`."""

    path: str
    connectors: list[PlannedConnector] = field(default_factory=list)
    connections: list[PlannedConnection] = field(default_factory=list)
    projects: list[tuple[str, str, str]] = field(default_factory=list)  # (name, business unit, application)
    missing_secrets: dict[str, list[str]] = field(default_factory=dict)
    required_secrets: dict[str, list[str]] = field(default_factory=dict)
    secrets_in_file: list[str] = field(default_factory=list)  # "connector 'X': alm_pass" (values not kept)
    warnings: list[str] = field(default_factory=list)



def load_document(path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Split a document into (connectors, connections); raise ConfigError for anything else."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"Cannot read {path}: {exc.strerror or exc}.", "Check the file name and permissions.",
                          field="file") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not a UTF-8 text file.", "Export the file again as JSON.",
                          field="file") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.",
                          "Fix the JSON there (a missing comma or quote is typical) or export the file again.",
                          field="file") from None
    items: list[Any]
    connectors: list[Any] = []
    if isinstance(doc, list):
        items = doc
    elif isinstance(doc, dict) and ("results" in doc or "connectors" in doc):
        items = doc.get("results") or []
        connectors = doc.get("connectors") or []
    elif isinstance(doc, dict):
        items = [doc]
    else:
        items = []
    if not isinstance(items, list) or not isinstance(connectors, list):
        raise ConfigError(f"{path}: \"results\" and \"connectors\" must be lists.", SHAPE_HINT, field="file")
    out_connectors: list[dict[str, Any]] = []
    out_connections: list[dict[str, Any]] = []
    for where, group in (("results", items), ("connectors", connectors)):
        for i, item in enumerate(group):
            if not isinstance(item, dict):
                raise ConfigError(f"{path}: {where}[{i}] is not a JSON object.", SHAPE_HINT, field="file")
            if "alias" in item:
                out_connections.append(item)
            elif "name" in item:
                out_connectors.append(item)
            else:
                raise ConfigError(f"{path}: {where}[{i}] has neither \"alias\" (a connection) nor \"name\" "
                                  "(a connector).", SHAPE_HINT, field="file")
    if not out_connectors and not out_connections:
        raise ConfigError(f"{path} holds no connectors or connections.", SHAPE_HINT, field="file")
    return out_connectors, out_connections


SHAPE_HINT = ('Use a file written by "almdesk export", or SD Elements\' {"results": [...]} from '
               "GET /api/v2/connectors/alm/ or /api/v2/connections/alm/.")



class Collector:
    """Errors of the whole file, each naming its item and field."""

    def __init__(self) -> None:
        self.errors: dict[str, ConfigError] = {}
        self.failed: set[str] = set()  # connectors (names and file ids) already reported as unusable

    def add(self, item: str, exc: ConfigError, key: str | None = None) -> None:
        fld = key or exc.field or "file"
        label = item[:1].upper() + item[1:] + (f", {fld}: " if fld not in ("file", "") else ": ")
        self.errors[f"{item} › {fld}"] = ConfigError(label + exc.message, exc.hint, field=fld)

    def add_fields(self, item: str, exc: ConfigError, source: Mapping[str, str]) -> None:
        sub = exc.errors if isinstance(exc, FieldErrors) else {exc.field or "file": exc}
        for key, err in sub.items():
            src = source.get(key)
            hint = err.hint + (f" (file key {src!r})" if src and src != key else "")
            self.add(item, ConfigError(err.message, hint.strip(), field=key), key)
