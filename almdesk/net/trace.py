"""Debug-mode HTTP trace: each exchange recorded, redacted, as one JSON line in a file."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import requests

from almdesk.net.redact import GENERIC, Redaction, redact_headers, redact_text, redact_url, scrub

BODY_LIMIT = 64 * 1024


def _body_text(body: Any) -> str:
    if body is None:
        return ""
    if isinstance(body, bytes):
        return body[:BODY_LIMIT].decode("utf-8", "replace")
    return str(body)[:BODY_LIMIT]


class TraceRecorder:
    """Appends redacted exchanges to ``path`` (JSON lines). Thread-safe; used as a response hook.

    ``rules`` add the secret names of the system the trace is for (its declaration).
    """

    def __init__(self, path: Path, secrets: Iterable[str] = (), rules: Redaction = GENERIC) -> None:
        self.path = path
        self.rules = rules
        self.secrets = [s for s in secrets if s]
        self._lock = threading.Lock()
        self.count = 0
        path.parent.mkdir(parents=True, exist_ok=True)

    def add_secrets(self, secrets: Iterable[str]) -> None:
        self.secrets.extend(s for s in secrets if s)

    def record(self, response: requests.Response) -> None:
        req = response.request
        entry = {
            "time": time.time(),
            "method": req.method,
            "url": scrub(redact_url(req.url or "", self.rules), self.secrets),
            "status": response.status_code,
            "elapsed_ms": round(response.elapsed.total_seconds() * 1000, 1),
            "request_headers": {k: redact_text(v, self.secrets, self.rules)
                                for k, v in redact_headers(dict(req.headers), self.rules).items()},
            "request_body": redact_text(_body_text(req.body), self.secrets, self.rules),
            "response_headers": {k: redact_text(v, self.secrets, self.rules)
                                 for k, v in redact_headers(dict(response.headers), self.rules).items()},
            "response_body": redact_text(_body_text(response.content), self.secrets, self.rules),
        }
        line = json.dumps(entry, ensure_ascii=False)
        with self._lock, self.path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
            self.count += 1

    def hook(self, response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        self.record(response)
        return response


def read_trace(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    out = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if line:
                out.append(json.loads(line))
    return out
