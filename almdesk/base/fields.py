"""The field schema: the settings a system declares, how raw text becomes typed values, and their errors.

The GUI builds its forms from :class:`Field` lists and the CLI validates ``--param`` values with
them; :func:`parse_fields` collects every field's error at once (:class:`FieldErrors`). A choice
field stores its value and shows its label (``choice_labels``); a text field holding a JSON object of
pairs (the priority map) names a :class:`PairTable`, which forms edit as a two-column table.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from almdesk.errors import ConfigError


class FieldKind(enum.StrEnum):
    """The kinds of value a field holds; each maps to one editor widget."""

    TEXT = "text"
    SECRET = "secret"
    URL = "url"
    INT = "int"
    CHOICE = "choice"
    MULTI_CHOICE = "multi-choice"
    BOOL = "bool"


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True)
class PairTable:
    """A text field whose value is a JSON object of text pairs (``{"1-3": "Low", …}``), edited as rows.

    ``key_pattern`` (a regular expression the whole key must match) and ``key_hint`` describe the keys.
    :meth:`rows` reads a stored value back into rows; :meth:`text` writes rows as the stored value,
    raising a :class:`ConfigError` that names the bad row.
    """

    key_label: str = "Key"
    value_label: str = "Value"
    key_pattern: str = ""
    key_hint: str = ""

    def rows(self, text: str) -> list[tuple[str, str]] | None:
        """The rows of a stored value (``[]`` for empty text); None when it is not a JSON object."""
        if not text.strip():
            return []
        try:
            value = json.loads(text)
        except ValueError:
            return None
        if not isinstance(value, dict):
            return None
        return [(str(k), v if isinstance(v, str) else json.dumps(v)) for k, v in value.items()]

    def text(self, rows: Sequence[tuple[str, str]], fld: Field | None = None) -> str:
        """The stored value of ``rows`` (blank rows left out; none: ``""``); ConfigError naming a bad row."""
        name, label = (fld.name, fld.label) if fld else (None, "The table")
        out: dict[str, str] = {}
        seen: dict[str, int] = {}
        for number, (raw_key, raw_value) in enumerate(rows, start=1):
            key, value = raw_key.strip(), raw_value.strip()
            if not key and not value:
                continue
            where = f"{label}, row {number}"
            if not key:
                raise ConfigError(f"{where} has no {self.key_label.lower()}.",
                                  f"Enter {self.key_hint or 'a key'}, or remove the row.", field=name)
            if self.key_pattern and not re.fullmatch(self.key_pattern, key):
                raise ConfigError(f"{where}: {key!r} is not {self.key_hint or 'a valid key'}.",
                                  f"Write {self.key_hint or 'a valid key'}.", field=name)
            if key in seen:
                raise ConfigError(f"{where} repeats {key!r} (row {seen[key]}).",
                                  "Each key may appear once; remove one of the rows.", field=name)
            if not value:
                raise ConfigError(f"{where} has no {self.value_label.lower()} for {key!r}.",
                                  f"Enter the {self.value_label.lower()}, or remove the row.", field=name)
            seen[key] = number
            out[key] = value
        return json.dumps(out, ensure_ascii=False, separators=(",", ":")) if out else ""


@dataclass(frozen=True)
class Field:
    """One setting of a connector or a connection.

    ``section`` groups fields in the connection editor (General, Target, Scope, Status).
    ``minimum``/``maximum`` bound ``INT`` fields. Secret fields are stored only in the keyring.

    What an empty value means is decided per field. By default an empty value asks for the
    ``default``. With ``allow_empty`` an *explicit* empty value (``""`` or ``[]``) is a value of its
    own — the user cleared the field, e.g. "no label" — and is kept through save and reload; only
    a missing value (``None``, a key that is not there) still gives the ``default``.
    """

    name: str
    label: str
    kind: FieldKind = FieldKind.TEXT
    default: Any = None
    required: bool = False
    help: str = ""
    choices: tuple[str, ...] = ()
    section: str = "Target"
    placeholder: str = ""
    minimum: int | None = None
    maximum: int | None = None
    choice_labels: tuple[str, ...] = ()  # what forms show for each of ``choices`` (same order)
    allow_empty: bool = False  # an explicit empty value is kept (cleared), not replaced by the default
    table: PairTable | None = None  # a TEXT field holding a JSON object of pairs, edited as a table

    def __post_init__(self) -> None:
        if self.choice_labels and len(self.choice_labels) != len(self.choices):
            raise ValueError(f"field {self.name!r}: {len(self.choice_labels)} labels for {len(self.choices)} choices")

    def choice_pairs(self) -> list[tuple[str, str]]:
        """(value, label) of each choice; the label is the value where none is declared."""
        return list(zip(self.choices, self.choice_labels or self.choices, strict=True))

    def choice_label(self, value: str) -> str:
        """What a form shows for choice ``value`` (the value itself when it is not a known choice)."""
        return dict(self.choice_pairs()).get(value, value)

    def parse(self, raw: Any) -> Any:
        """Turn a raw value (text from a form or the CLI, or a JSON value) into a typed one.

        Raises :class:`ConfigError` naming the field and the fix. Empty values give the default
        (or raise when the field is required) unless the field ``allow_empty``: then an explicit
        ``""``/``[]`` stays empty and only ``None`` gives the default.
        """
        if isinstance(raw, str):
            raw = raw.strip()
        empty = raw is None or raw == "" or raw == []
        if empty and self.allow_empty and raw is not None and not self.required:
            return [] if self.kind is FieldKind.MULTI_CHOICE else ""
        if empty:
            if self.required and self.default in (None, "", []):
                raise ConfigError(f"{self.label} is required.", self.help or f"Enter a value for {self.label}.",
                                  field=self.name)
            return self.default
        kind = self.kind
        if kind is FieldKind.INT:
            try:
                value = int(raw)
            except (TypeError, ValueError):
                raise ConfigError(f"{self.label} must be a whole number, not {raw!r}.",
                                  self._range_hint(), field=self.name) from None
            if (self.minimum is not None and value < self.minimum) or (
                    self.maximum is not None and value > self.maximum):
                raise ConfigError(f"{self.label} is {value}, outside the allowed range.", self._range_hint(),
                                  field=self.name)
            return value
        if kind is FieldKind.BOOL:
            if isinstance(raw, bool):
                return raw
            text = str(raw).lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
            raise ConfigError(f"{self.label} must be true or false, not {raw!r}.", "Use true or false.",
                              field=self.name)
        if kind is FieldKind.CHOICE:
            text = str(raw)
            if self.choices and text not in self.choices:
                raise ConfigError(f"{self.label} cannot be {text!r}.", f"Choose one of: {', '.join(self.choices)}.",
                                  field=self.name)
            return text
        if kind is FieldKind.MULTI_CHOICE:
            items = [str(i).strip() for i in raw] if isinstance(raw, list | tuple) else split_list(str(raw))
            if self.choices:
                bad = [i for i in items if i not in self.choices]
                if bad:
                    raise ConfigError(f"{self.label} has unknown value(s): {', '.join(bad)}.",
                                      f"Use any of: {', '.join(self.choices)}.", field=self.name)
            return items
        if kind is FieldKind.URL:
            return check_url(str(raw), self)
        return str(raw)

    def _range_hint(self) -> str:
        if self.minimum is not None and self.maximum is not None:
            return f"Enter a number from {self.minimum} to {self.maximum}."
        if self.minimum is not None:
            return f"Enter a number of at least {self.minimum}."
        return "Enter a whole number."

    def to_text(self, value: Any) -> str:
        """Render a typed value back to the text a form or the CLI shows."""
        if value is None:
            return ""
        if self.kind is FieldKind.MULTI_CHOICE and isinstance(value, list | tuple):
            return ",".join(str(v) for v in value)
        if self.kind is FieldKind.BOOL:
            return "true" if value else "false"
        return str(value)


def split_list(text: str) -> list[str]:
    """Split a comma-separated list, dropping blanks."""
    return [part.strip() for part in text.split(",") if part.strip()]


def check_url(text: str, fld: Field | None = None) -> str:
    """Validate an http(s) URL; return it without a trailing slash."""
    name = fld.name if fld else None
    label = fld.label if fld else "URL"
    text = text.strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        raise ConfigError(f"{label} is not a valid address.", "Write it like https://server.example.com.",
                          field=name) from None
    if parts.scheme not in ("http", "https"):
        raise ConfigError(f"{label} must start with https:// or http://.",
                          f"Write the full address, for example https://{text or 'server.example.com'}.",
                          field=name)
    try:
        port = parts.port
    except ValueError:
        raise ConfigError(f"{label} has an invalid port.", "The port must be a number from 1 to 65535.",
                          field=name) from None
    if not parts.hostname:
        raise ConfigError(f"{label} has no host name.", "Write it like https://server.example.com.", field=name)
    del port
    return text.rstrip("/")


def parse_fields(fields: Sequence[Field], raw: Mapping[str, Any], *, partial: bool = False) -> dict[str, Any]:
    """Parse every field of ``fields`` from ``raw``; collect all errors, not just the first.

    Raises :class:`FieldErrors` (a :class:`ConfigError`) listing each bad field. Unknown keys are
    an error too, so a typo in ``--param`` is caught. With ``partial`` only keys present are parsed.
    """
    known = {f.name for f in fields}
    errors: dict[str, ConfigError] = {}
    for key in raw:
        if key not in known:
            errors[key] = ConfigError(f"Unknown setting {key!r}.",
                                      f"Known settings: {', '.join(sorted(known))}.", field=key)
    out: dict[str, Any] = {}
    for f in fields:
        if f.kind is FieldKind.SECRET or (partial and f.name not in raw):
            continue
        try:
            out[f.name] = f.parse(raw.get(f.name))
        except ConfigError as exc:
            errors[f.name] = exc
    if errors:
        raise FieldErrors(errors)
    return out


class FieldErrors(ConfigError):
    """Several field-level errors at once; ``errors`` maps field name to its error."""

    def __init__(self, errors: Mapping[str, ConfigError]) -> None:
        self.errors = dict(errors)
        first = next(iter(self.errors.values()))
        lines = [str(e) for e in self.errors.values()]
        super().__init__("\n".join(lines) if len(lines) > 1 else first.message,
                         "" if len(lines) > 1 else first.hint, field=first.field)
