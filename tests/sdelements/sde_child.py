"""Run one sync of a connection of a bound project in this process and print its result as JSON (for
the SIGKILL test). Usage: ``python -m tests.sdelements.sde_child DATA_DIR ALIAS`` with
``{"uid/field": secret}`` JSON on stdin (secrets never go on the command line)."""

from __future__ import annotations

import json
import sys

import keyring.backends.fail

from almdesk.models import Store
from almdesk.paths import Paths
from almdesk.secrets import SecretStore
from almdesk.services import Services
from almdesk.systems.registry import Registry


def main() -> int:
    secrets = SecretStore(keyring.backends.fail.Keyring())
    for key, value in json.loads(sys.stdin.read() or "{}").items():
        uid, _, name = key.partition("/")
        secrets.set(uid, name, value)
    paths = Paths.resolve(sys.argv[1])
    services = Services(paths, Store(paths.database), secrets, Registry.default())
    result = services.run(services.sync_spec(sys.argv[2]))
    print(json.dumps({"state": result.state, "message": result.outcome.message, "counts": result.outcome.counts}))
    services.close()
    return 0 if result.state == "succeeded" else 1


if __name__ == "__main__":
    sys.exit(main())
