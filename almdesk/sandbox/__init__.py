"""Loopback simulators of the systems, for the demo mode and the tests.

Each system's sandbox lives in ``almdesk.sandbox.<system>`` and exposes
``create(seed: int = 0, **options) -> SandboxApp``; :func:`available` finds them (no list to keep),
in the registry's order of systems.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Iterable
from typing import Any

from almdesk.sandbox.base import COUNTERS_PATH, Faults, Latency, SandboxApp, SandboxServer, serve


def available() -> list[str]:
    """The systems that have a sandbox package, the registry's systems first in its order."""
    from almdesk.systems.registry import SYSTEM_NAMES

    found = [m.name for m in pkgutil.iter_modules(__path__) if m.ispkg]
    return sorted(found, key=lambda n: (SYSTEM_NAMES.index(n) if n in SYSTEM_NAMES else len(SYSTEM_NAMES), n))


def create(system: str, seed: int = 0, **options: Any) -> SandboxApp:
    """Build one system's sandbox; options it does not take (e.g. strict_rate_limits) are ignored."""
    module = importlib.import_module(f"almdesk.sandbox.{system}")
    params = inspect.signature(module.create).parameters
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        options = {k: v for k, v in options.items() if k in params}
    app: SandboxApp = module.create(seed=seed, **options)
    return app


def start(systems: Iterable[str] | None = None, *, port: int = 0, faults: str = "", seed: int = 0,
          host: str = "127.0.0.1", latency: float = 0.0, server_cost: float = 0.0,
          **options: Any) -> list[SandboxServer]:
    """Start one server per system (consecutive ports from ``port`` when it is not 0).

    ``latency`` (seconds) is waited before every answer and ``server_cost`` (seconds) per item of
    a bulk write (see :class:`~almdesk.sandbox.base.Latency`); ``almdesk sandbox --latency
    --server-cost`` passes them here.
    """
    servers = []
    for i, name in enumerate(systems or available()):
        app = create(name, seed=seed, **options)
        fault_cfg = Faults.parse(faults, seed=seed) if faults else None
        servers.append(serve(app, host=host, port=port + i if port else 0, faults=fault_cfg, latency=latency,
                             server_cost=server_cost))
    return servers


def read_counters(url: str, timeout: float = 10.0) -> dict[str, Any]:
    """The counters of the sandbox at ``url`` (another process too, e.g. ``almdesk sandbox``): requests
    by status, requests in flight and their peaks per caller and limit, refusals, waits, bulk items and
    seconds slept by the latency model. See :meth:`~almdesk.sandbox.base.SandboxApp.counters`."""
    import json
    from urllib.request import urlopen

    with urlopen(url.rstrip("/") + COUNTERS_PATH, timeout=timeout) as answer:
        data: dict[str, Any] = json.load(answer)
    return data


__all__ = ["Faults", "Latency", "SandboxApp", "SandboxServer", "available", "create", "read_counters", "serve", "start"]
