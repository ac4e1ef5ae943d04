"""``almdesk sandbox``: start the loopback simulators and print one ``describe()`` line per server
until SIGTERM or Ctrl-C (moved out of :mod:`almdesk.cli` to keep it short; behaviour unchanged)."""

from __future__ import annotations

import argparse
import json
from typing import Any, TextIO

from almdesk.errors import EXIT_OK


def sandbox_main(args: argparse.Namespace, stdout: TextIO) -> int:
    import signal
    import threading

    from almdesk import sandbox
    from almdesk.cli_parser import UsageError

    systems = args.only or sandbox.available()
    unknown = [s for s in systems if s not in sandbox.available()]
    if unknown:
        raise UsageError(f"Unknown sandbox system(s): {', '.join(unknown)}.",
                         f"Use: {', '.join(sandbox.available())}.")
    if args.latency < 0 or args.server_cost < 0:
        raise UsageError("--latency and --server-cost must be 0 or more seconds.",
                         "Example: --latency 0.05 --server-cost 0.01")
    try:
        extra: dict[str, Any] = {"jira_mode": args.jira_mode}
        if args.strict_rate_limits:
            extra["strict_rate_limits"] = True
        servers = sandbox.start(systems, port=args.port, faults=args.faults, seed=args.seed, latency=args.latency,
                                server_cost=args.server_cost, **extra)
    except ValueError as exc:
        raise UsageError(f"--faults: {exc}", "Example: 500:0.05,429:0.05,reset:0.02") from None
    except OSError as exc:
        raise UsageError(f"Cannot listen on port {args.port}: {exc}.", "Choose another port or 0.") from None
    for server in servers:
        print(json.dumps(server.describe()), file=stdout, flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    for server in servers:
        server.stop()
    return EXIT_OK
