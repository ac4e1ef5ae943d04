"""Redaction of secrets from headers, URLs and bodies before anything is recorded."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "«redacted»"

SECRET_HEADERS = {
    "authorization", "proxy-authorization", "cookie", "set-cookie", "zsessionid", "x-api-key",
    "x-auth-token", "private-token", "x-trackertoken",
}
SECRET_KEY_RE = re.compile(
    r"(secret|password|passwd|token|api[_-]?key|apikey|zsessionid|authorization|cookie|lwsso|credential)",
    re.IGNORECASE)


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: (MASK if k.lower() in SECRET_HEADERS or SECRET_KEY_RE.search(k) else v) for k, v in headers.items()}


def redact_url(url: str) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = MASK + "@" + netloc.rsplit("@", 1)[1]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        # Rally writes carry the security token as ?key=…; in bodies "key" is an issue key, so only here
        query = urlencode([(k, MASK if SECRET_KEY_RE.search(k) or k.lower() == "key" else v) for k, v in pairs])
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact_json(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: (MASK if isinstance(k, str) and SECRET_KEY_RE.search(k) and v not in (None, "")
                    else redact_json(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_json(v) for v in value]
    return value


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Redact a body: JSON by key names, form bodies by key names, then any known secret value."""
    stripped = text.lstrip()
    if stripped[:1] in ("{", "["):
        try:
            text = json.dumps(redact_json(json.loads(text)), ensure_ascii=False)
        except ValueError:
            pass
    elif "=" in text and "\n" not in text and " " not in text.strip():
        pairs = parse_qsl(text, keep_blank_values=True)
        if pairs:
            text = urlencode([(k, MASK if SECRET_KEY_RE.search(k) else v) for k, v in pairs])
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
