"""Running the CLI in-process for tests: ``run(data_dir, *args)`` → (exit code, its ``--json`` document)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from almdesk.cli import main


def run(data_dir: Path, *args: str, stdin: str = "") -> tuple[int, dict[str, Any]]:
    out = io.StringIO()
    code = main(["--data-dir", str(data_dir), "--json", *args], stdin=io.StringIO(stdin), stdout=out)
    lines = [line for line in out.getvalue().splitlines() if line.startswith("{")]
    doc: dict[str, Any] = json.loads(lines[-1])
    return code, doc
