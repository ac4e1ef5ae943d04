"""The official ALM Octane JavaScript SDK runs a flow against the sandbox (tests/octane/js/flow.js)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from almdesk.sandbox.base import SandboxServer
from almdesk.sandbox.octane import API_KEY
from tests.octane.conftest import app_of

JS_DIR = Path(__file__).parent / "js"


def _ensure_sdk() -> None:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node/npm are not installed")
    if not (JS_DIR / "node_modules" / "@microfocus" / "alm-octane-js-rest-sdk").exists():
        done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=JS_DIR, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, f"npm ci failed:\n{done.stdout}\n{done.stderr}"


def test_official_js_sdk_flow(make_server: Callable[..., SandboxServer]) -> None:
    _ensure_sdk()
    server = make_server()
    env = dict(os.environ, OCTANE_URL=server.url, OCTANE_SHARED_SPACE="1001", OCTANE_WORKSPACE="1002",
               OCTANE_USER=API_KEY[0], OCTANE_PASSWORD=API_KEY[1])
    done = subprocess.run(["node", "flow.js"], cwd=JS_DIR, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"flow failed:\n{done.stdout}\n{done.stderr[-3000:]}"
    line = next(ln for ln in done.stdout.splitlines() if ln.startswith("RESULT "))
    result = json.loads(line[len("RESULT "):])
    assert result["name"] == "Updated by the JS SDK (it's ^fine^)"
    assert result["phase"] == "phase.defect.opened"
    assert result["draft"] is True
    app = app_of(server)
    assert app.sign_ins == 1 and app.sign_outs == 1
    entity = app.site.workspaces["1002"].of_type("work_item")[result["id"]]
    assert entity["severity"]["id"] == "list_node.severity.high"
