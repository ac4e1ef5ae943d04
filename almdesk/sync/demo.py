"""Seeded demo tasks for the sandbox demo and the benches, in the import shape (DESIGN §4 Import)."""

from __future__ import annotations

import csv
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from almdesk.sync.tasks_io import COLUMNS
from almdesk.systems.common import PHASES, VERIFICATIONS

_SUBJECTS = ("session tokens", "password storage", "input validation", "TLS settings", "audit logging",
             "file uploads", "access control", "error messages", "third-party libraries", "CSRF protection",
             "secrets in configuration", "rate limiting", "SQL queries", "XML parsing", "redirects")
_VERBS = ("Protect", "Validate", "Harden", "Review", "Restrict", "Encrypt", "Monitor", "Document")
_TAGS = ("web", "mobile", "api", "pci", "gdpr", "owasp-top10", "internal")
_BASE_TIME = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


def demo_tasks(n: int, seed: int = 0, *, start: int = 1) -> list[dict[str, Any]]:
    """``n`` plausible tasks ``T<start>…``: mostly in scope under the default filters (priority ≥ 7,
    phases requirements/architecture-design/development), a few DONE/NA, tags and verification mixed."""
    rng = random.Random(seed)
    tasks = []
    for i in range(start, start + n):
        verb, subject = rng.choice(_VERBS), rng.choice(_SUBJECTS)
        roll = rng.random()
        status = "TODO" if roll < 0.85 else "DONE" if roll < 0.95 else "NA"
        phase = PHASES[rng.choice((0, 1, 2, 2, 2, 2, 3))]
        tags = sorted(rng.sample(_TAGS, rng.choice((0, 1, 1, 2))))
        updated = _BASE_TIME + timedelta(minutes=rng.randrange(0, 60 * 24 * 90))
        tasks.append({
            "task_id": f"T{i}",
            "title": f"{verb} {subject}",
            "text": f"{verb} {subject} as the security policy requires.\n\nAcceptance: a reviewer can verify it.",
            "phase": phase,
            "priority": rng.choice((4, 6, 7, 7, 8, 8, 9, 10)),
            "status": status,
            "verification": rng.choice(VERIFICATIONS),
            "tags": tags,
            "updated": updated.isoformat(),
        })
    return tasks


def write_demo_tasks(path: str | Path, n: int, seed: int = 0) -> Path:
    """Write ``demo_tasks(n, seed)`` as CSV (``.csv``) or JSON (anything else); return the path."""
    p = Path(path)
    tasks = demo_tasks(n, seed)
    if p.suffix.lower() == ".csv":
        with p.open("w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=list(COLUMNS))
            writer.writeheader()
            for t in tasks:
                writer.writerow({**t, "tags": ";".join(t["tags"])})
    else:
        p.write_text(json.dumps(tasks, indent=1), encoding="utf-8")
    return p
