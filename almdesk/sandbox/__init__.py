"""Loopback simulators of the four systems, for the demo mode and the tests.

Each system's sandbox lives in ``almdesk.sandbox.<system>`` and exposes
``create(seed: int = 0, **options) -> SandboxApp``.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Iterable
from typing import Any

from almdesk.sandbox.base import Faults, SandboxApp, SandboxServer, serve

SANDBOX_SYSTEMS = ("octane", "jira", "github", "rally", "sdelements")


def available() -> list[str]:
    names = []
    for name in SANDBOX_SYSTEMS:
        try:
            importlib.import_module(f"almdesk.sandbox.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"almdesk.sandbox.{name}":
                continue
            raise
        names.append(name)
    return names


def create(system: str, seed: int = 0, **options: Any) -> SandboxApp:
    """Build one system's sandbox; options it does not take (e.g. strict_rate_limits) are ignored."""
    module = importlib.import_module(f"almdesk.sandbox.{system}")
    params = inspect.signature(module.create).parameters
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        options = {k: v for k, v in options.items() if k in params}
    app: SandboxApp = module.create(seed=seed, **options)
    return app


def start(systems: Iterable[str] | None = None, *, port: int = 0, faults: str = "", seed: int = 0,
          host: str = "127.0.0.1", **options: Any) -> list[SandboxServer]:
    """Start one server per system (consecutive ports from ``port`` when it is not 0)."""
    servers = []
    for i, name in enumerate(systems or available()):
        app = create(name, seed=seed, **options)
        fault_cfg = Faults.parse(faults, seed=seed) if faults else None
        servers.append(serve(app, host=host, port=port + i if port else 0, faults=fault_cfg))
    return servers


__all__ = ["Faults", "SandboxApp", "SandboxServer", "available", "create", "serve", "start"]
