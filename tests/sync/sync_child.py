"""Run one sync of a connection in this process and print its result as JSON (for the SIGKILL test).

Usage: ``python -m tests.sync.sync_child DB ALIAS`` with ``{"uid/field": secret}`` JSON on stdin
(secrets never go on the command line).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import keyring.backends.fail

from almdesk.config import Config
from almdesk.jobs.record import JobSpec, run_recorded
from almdesk.models import Store
from almdesk.net.session import HttpFactory
from almdesk.secrets import SecretStore
from almdesk.sync import sync_job
from tests.sync.harness import apply_bulk_override, make_registry


def prepare(db: str, alias: str, secrets_json: str) -> tuple[Store, JobSpec, HttpFactory]:
    """The store, the sync job of ``alias`` and its HTTP factory, with ``{"uid/field": secret}`` secrets
    kept in memory only (also used by ``bench/memory.py``)."""
    secrets = SecretStore(keyring.backends.fail.Keyring())  # type: ignore[no-untyped-call]  # keyring: unannotated
    for key, value in json.loads(secrets_json or "{}").items():
        uid, _, name = key.partition("/")
        secrets.set(uid, name, value)
    registry = make_registry()
    store = Store(Path(db))
    config = Config(store, secrets, registry)
    settings = config.connection_settings(alias)
    http = HttpFactory(settings.connector.network)
    fn = sync_job(store, settings, registry.get(settings.connector.system), http)
    spec = JobSpec("sync", f"Sync {alias}", fn, config.connector(settings.connector.name).id, settings.id)
    return store, spec, http


def main() -> int:
    apply_bulk_override()
    store, spec, _http = prepare(sys.argv[1], sys.argv[2], sys.stdin.read())
    result = run_recorded(store, spec)
    print(json.dumps({"state": result.state, "message": result.outcome.message, "counts": result.outcome.counts}))
    store.close()
    return 0 if result.state == "succeeded" else 1


if __name__ == "__main__":
    sys.exit(main())
