"""Support bundle: one zip with what support needs to understand a problem, and no secrets.

It holds the redacted debug trace(s) of the job(s), the job log (rows + events as JSON), the
settings of the involved connectors and connections (export shape, no secrets), versions of the
app, Python, the OS and the libraries, and the tail of the app log. Before anything is written every
known secret value (raw, URL-encoded, JSON-escaped, base64, and base64 of ``user:secret``) is
scrubbed from every member, even though traces and logs are redacted already.
"""

from __future__ import annotations

import base64
import json
import platform
import sys
import zipfile
from collections.abc import Iterable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from almdesk import __version__
from almdesk.errors import ConfigError
from almdesk.jobs.history import get_job, recent_jobs
from almdesk.jobs.record import job_events
from almdesk.net.redact import MASK, scrub
from almdesk.transfer import export_config

if TYPE_CHECKING:
    from almdesk.services import Services

LOG_TAIL_BYTES = 256 * 1024
TRACE_LIMIT_BYTES = 8 * 1024 * 1024
MAX_JOBS = 20
LIBRARIES = ("PySide6", "PySide6_Essentials", "shiboken6", "requests", "urllib3", "truststore", "keyring", "SQLAlchemy", "alembic",
             "platformdirs", "werkzeug")


def versions(services: Services) -> dict[str, Any]:
    """Versions of almdesk, Python, the OS, Qt (PySide6 ships its Qt) and the libraries; no Qt import."""
    libs: dict[str, str] = {}
    for name in (*LIBRARIES, *(p for system in services.registry for p in system.client_packages)):
        try:
            libs[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            libs[name] = "not installed"
    pyside = libs["PySide6"] if libs["PySide6"] != "not installed" else libs["PySide6_Essentials"]
    return {"almdesk": __version__, "python": sys.version, "implementation": platform.python_implementation(),
            "os": platform.platform(), "machine": platform.machine(),
            "qt": f"{pyside} (bundled with PySide6 {pyside})" if pyside != "not installed" else "not installed",
            "libraries": libs, "keyring_backend": services.secrets.backend_name,
            "database_schema": services.store.current_revision()}


def secret_variants(secrets: Iterable[str], users: Iterable[str] = ()) -> set[str]:
    """Every form a secret is likely to take in text: raw, JSON-escaped, base64, base64 of user:secret."""
    from urllib.parse import quote

    users = [u for u in users if u] + [""]
    out: set[str] = set()
    for secret in (s for s in secrets if s):
        out.add(secret)
        out.add(quote(secret, safe=""))
        out.add(json.dumps(secret)[1:-1])
        out.add(base64.b64encode(secret.encode()).decode())
        for user in users:
            out.add(base64.b64encode(f"{user}:{secret}".encode()).decode())
    return {v for v in out if len(v) >= 4}


def _tail(path: Path, limit: int) -> str:
    if not path.exists():
        return ""
    with path.open("rb") as fh:
        size = fh.seek(0, 2)
        fh.seek(max(0, size - limit))
        data = fh.read()
    text = data.decode("utf-8", "replace")
    if size > limit:  # start at a whole line
        text = text.split("\n", 1)[-1]
    return text


def _select_jobs(services: Services, connection: str | int | None, job_id: int | None) -> list[dict[str, Any]]:
    if job_id is not None:
        job = get_job(services.store, job_id)
        if job is None:
            raise ConfigError(f"There is no job #{job_id}.", "Pick a job from the job history (almdesk jobs).",
                              field="job")
        return [job]
    conn_id = services.config.connection(connection).id if connection is not None else None
    rows = recent_jobs(services.store, connection_id=conn_id, limit=MAX_JOBS)
    return [job for row in rows if (job := get_job(services.store, int(row["id"]))) is not None]


def _involved(services: Services, jobs: list[dict[str, Any]],
              connection: str | int | None) -> tuple[set[str], set[str]]:
    """Names of the connectors and aliases of the connections the bundle is about."""
    cfg = services.config
    connectors: set[str] = set()
    aliases: set[str] = set()
    if connection is not None:
        info = cfg.connection(connection)
        aliases.add(info.alias)
        connectors.add(info.connector)
    for job in jobs:
        if job.get("connection"):
            aliases.add(str(job["connection"]))
        if job.get("connector_id") is not None:
            try:
                connectors.add(cfg.connector(int(job["connector_id"])).name)
            except ConfigError:
                pass
    for alias in list(aliases):
        try:
            connectors.add(cfg.connection(alias).connector)
        except ConfigError:
            aliases.discard(alias)
    return connectors, aliases


def _known_secrets(services: Services) -> set[str]:
    """Every secret value in the keyring for every connector (involved or not), in all its forms."""
    out: set[str] = set()
    for info in services.config.connectors():
        secrets = [services.secrets.get(info.uid, key) for key in info.secret_fields]
        users = [str(v) for v in info.params.values() if isinstance(v, str) and 0 < len(v) < 200]
        out |= secret_variants(secrets, users)
    return out


def support_bundle(services: Services, *, connection: str | int | None = None, job_id: int | None = None,
                   out_dir: str | Path) -> Path:
    """Write a support bundle zip into ``out_dir`` and return its path.

    With ``job_id`` the bundle is about that job; with ``connection`` about that connection's recent
    jobs; with neither about the most recent jobs of all connections.
    """
    jobs = _select_jobs(services, connection, job_id)
    connectors, aliases = _involved(services, jobs, connection)
    everything = connection is None and job_id is None
    settings = export_config(services.config, connectors=None if everything else connectors,
                             connections=None if everything else aliases)
    members: dict[str, str] = {}
    job_log = []
    for job in jobs:
        events = [{"time": e.time, "item": e.item, "action": e.action, "status": e.status, "message": e.message,
                   "url": e.url} for e in job_events(services.store, int(job["id"]))]
        trace = Path(job["trace_path"]) if job.get("trace_path") else None
        if trace is not None and trace.is_file():
            name = f"traces/job-{job['id']}-{trace.name}"
            members[name] = _tail(trace, TRACE_LIMIT_BYTES)
            job = {**job, "trace_member": name}
        job_log.append({**job, "events": events})
    members["jobs.json"] = json.dumps(job_log, indent=2, default=str)
    members["settings.json"] = json.dumps(settings, indent=2, default=str)
    members["versions.json"] = json.dumps(versions(services), indent=2, default=str)
    members["app-log-tail.txt"] = _tail(services.paths.log_file, LOG_TAIL_BYTES)
    members["README.txt"] = (
        "almdesk support bundle\n"
        f"created {datetime.now(UTC).isoformat(timespec='seconds')}\n"
        f"about: {'job #' + str(job_id) if job_id is not None else 'connection ' + str(connection) if connection else 'recent jobs'}\n"
        "jobs.json: job rows and per-item events; traces/: redacted HTTP traces of debug-mode jobs;\n"
        "settings.json: connectors and connections without secrets; versions.json; app-log-tail.txt.\n"
        f"Every known secret value was replaced with {MASK} before writing.\n")
    secrets = _known_secrets(services)
    cleaned = {name: scrub(text, secrets) for name, text in members.items()}
    for name, text in cleaned.items():  # scrub() skips nothing it was given; make sure of it anyway
        if any(s in text for s in secrets):
            raise RuntimeError(f"support bundle member {name} still holds a secret after scrubbing")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    target = out / f"almdesk-support-{stamp}{'-job' + str(job_id) if job_id is not None else ''}.zip"
    n = 1
    while target.exists():
        n += 1
        target = target.with_name(f"{target.stem.split('~')[0]}~{n}.zip")
    partial = target.with_suffix(".zip.part")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, text in cleaned.items():
            zf.writestr(name, text)
    partial.replace(target)
    return target
