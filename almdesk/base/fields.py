"""The field schema: the settings a system declares, how raw text becomes typed values, and their errors.

The GUI builds its forms from :class:`Field` lists and the CLI validates ``--param`` values with
them; :func:`parse_fields` collects every field's error at once (:class:`FieldErrors`).
"""

from __future__ import annotations

import enum
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
