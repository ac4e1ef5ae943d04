"""Redaction of secrets from headers, URLs and bodies before anything is recorded.

Names are matched by :data:`SECRET_KEY_RE` anywhere in a header, query parameter, form or JSON key.
A :class:`Redaction` adds what one system's wire protocol uses beyond that (its declared
``secret_names`` and exact ``secret_query_keys``); known secret values are scrubbed everywhere.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "«redacted»"

SECRET_HEADERS = {
    "authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "x-auth-token", "private-token",
}
SECRET_KEY_RE = re.compile(r"(secret|password|passwd|token|api[_-]?key|apikey|authorization|cookie|credential)",
                           re.IGNORECASE)


@dataclass(frozen=True)
class Redaction:
    """What counts as a secret name: the generic pattern plus one system's declared names.

    ``names`` match anywhere in a key (case-insensitive), like :data:`SECRET_KEY_RE`;
    ``query_keys`` are exact query-parameter names (Rally's ``key``, an issue key elsewhere).
    """

    names: tuple[str, ...] = ()
    query_keys: tuple[str, ...] = ()

    @functools.cached_property
    def pattern(self) -> re.Pattern[str]:
        if not self.names:
            return SECRET_KEY_RE
        return re.compile(f"{SECRET_KEY_RE.pattern[:-1]}|{'|'.join(map(re.escape, self.names))})", re.IGNORECASE)

    def secret_key(self, key: str) -> bool:
        return bool(self.pattern.search(key))


GENERIC = Redaction()


def redact_headers(headers: Mapping[str, str], rules: Redaction = GENERIC) -> dict[str, str]:
    return {k: (MASK if k.lower() in SECRET_HEADERS or rules.secret_key(k) else v) for k, v in headers.items()}


def redact_url(url: str, rules: Redaction = GENERIC) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = MASK + "@" + netloc.rsplit("@", 1)[1]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        exact = {q.lower() for q in rules.query_keys}
        query = urlencode([(k, MASK if rules.secret_key(k) or k.lower() in exact else v) for k, v in pairs])
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact_json(value: Any, rules: Redaction = GENERIC) -> Any:
    if isinstance(value, dict):
        return {k: (MASK if isinstance(k, str) and rules.secret_key(k) and v not in (None, "")
                    else redact_json(v, rules)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_json(v, rules) for v in value]
    return value


def redact_text(text: str, secrets: Iterable[str] = (), rules: Redaction = GENERIC) -> str:
    """Redact a body: JSON by key names, form bodies by key names, then any known secret value."""
    stripped = text.lstrip()
    if stripped[:1] in ("{", "["):
        try:
            text = json.dumps(redact_json(json.loads(text), rules), ensure_ascii=False)
        except ValueError:
            pass
    elif "=" in text and "\n" not in text and " " not in text.strip():
        pairs = parse_qsl(text, keep_blank_values=True)
        if pairs:
            text = urlencode([(k, MASK if rules.secret_key(k) else v) for k, v in pairs])
    return scrub(text, secrets)


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Replace every occurrence of a known secret value (and its URL-encoded form) with the mask."""
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, MASK)
        from urllib.parse import quote

        quoted = quote(secret, safe="")
        if quoted != secret:
            text = text.replace(quoted, MASK)
    return text
