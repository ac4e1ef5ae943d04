"""Headless command line: every GUI action has a twin here (DESIGN §7).

Exit codes: 0 success (gate passed), 1 the action ran and failed, 2 bad usage or configuration,
3 could not reach or authenticate to the server. ``--json`` prints one JSON document.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from typing import Any, TextIO

from almdesk import cli_remote, cli_source
from almdesk.base.fields import FieldErrors, split_list
from almdesk.base.records import DefectRequest, GateRequest, normalize_operator
from almdesk.base.settings import ConnectionSettings, ConnectorSettings
from almdesk.cli_parser import UsageError, build_parser
from almdesk.errors import EXIT_FAILED, EXIT_OK, EXIT_REMOTE, ConfigError, UserFacingError
from almdesk.jobs.context import JobContext, JobEvent
from almdesk.jobs.record import JobResult, JobSpec
from almdesk.junit import Suite, gate_suite, outcome_case, sync_suite, write_junit
from almdesk.secrets import EnvSecretStore, env_var


def parse_kv(pairs: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--param {pair!r} is not KEY=VALUE.", "Write it like --param alm_project=DEMO.")
        out[key.strip()] = value
    return out


def read_secrets(keys: Sequence[str], stdin: TextIO, persistent: bool = True, warning: str = "",
                 optional: Sequence[str] = ()) -> dict[str, str]:
    """One secret per key from standard input (a line each) or a no-echo prompt on a terminal.

    A key in ``optional`` may be given as an empty line (or Enter at the prompt): it is then left out.
    """
    if keys and not persistent:
        raise ConfigError(f"Cannot store secrets: {warning}",
                          "Run almdesk in a desktop session with an unlocked keyring (or, for a throwaway "
                          "keyring, under scripts/with-keyring).", field="secret")
    values: dict[str, str] = {}
    for key in keys:
        if stdin.isatty():
            value = getpass.getpass(f"{key} (optional, Enter to skip): " if key in optional else f"{key}: ")
        else:
            line = stdin.readline()
            if not line:
                raise UsageError(f"No value on standard input for --secret {key}.",
                                 "Pipe one line per --secret, in the order given.")
            value = line.rstrip("\r\n")
        if not value:
            if key in optional:
                continue
            raise UsageError(f"The secret {key} is empty.", "Give a value.", field=key)
        values[key] = value
    return values


def check_keys(option: str, keys: Iterable[str], valid: Sequence[str], what: str, hint: str = "") -> None:
    """A usage error naming the valid keys when ``keys`` has one not in ``valid``."""
    unknown = [k for k in keys if k not in valid]
    if unknown:
        raise UsageError(f"{option} {', '.join(unknown)}: not a field of this {what}.",
                         f"Valid keys: {', '.join(valid)}." + (f" ({hint}.)" if hint else ""), field=unknown[0])


class Cli:
    """Runs one parsed command; ``out`` collects the JSON document for --json."""

    def __init__(self, args: argparse.Namespace, stdin: TextIO, stdout: TextIO) -> None:
        self.args = args
        self.stdin = stdin
        self.stdout = stdout
        self.json = args.json
        from almdesk.services import Services

        self.services = Services.open(args.data_dir)
        self.config = self.services.config
        self.events: list[JobEvent] = []  # the events of the last run_job (for --junit)
        self.seconds = 0.0  # how long the last run_job took

    def read_secrets(self, keys: Sequence[str], optional: Sequence[str] = ()) -> dict[str, str]:
        store = self.services.secrets
        return read_secrets(keys, self.stdin, store.persistent, store.warning, optional)

    def say(self, text: str) -> None:
        if not self.json:
            print(text, file=self.stdout)

    # --- connectors -------------------------------------------------------------------------
    def connector(self) -> tuple[int, Any]:
        a, cfg = self.args, self.config
        if a.action == "add":
            cid = cfg.save_connector(a.name, a.system, parse_kv(a.param), self.read_secrets(a.secret))
            self.say(f"Connector {a.name!r} added.")
            return EXIT_OK, {"id": cid, "name": a.name}
        if a.action == "list":
            rows = [asdict(c) for c in cfg.connectors()]
            for r in rows:
                self.say(f"{r['name']:30} {r['system']:8} connections: {', '.join(r['connections']) or '-'}")
            return EXIT_OK, rows
        if a.action == "show":
            shown = asdict(cfg.connector(a.name))
            shown["secrets_set"] = [k for k in shown["secret_fields"] if self.services.secrets.get(shown["uid"], k)]
            self.say(json.dumps(shown, indent=2, default=str))
            return EXIT_OK, shown
        if a.action == "edit":
            info = cfg.connector(a.name)
            params = {**info.params, **parse_kv(a.param)}
            cfg.save_connector(a.rename or info.name, info.system, params, self.read_secrets(a.secret),
                               info.network, connector_id=info.id)
            self.say(f"Connector {a.rename or info.name!r} saved.")
            return EXIT_OK, {"id": info.id}
        if a.action == "rm":
            cfg.delete_connector(a.name)
            self.say(f"Connector {a.name!r} deleted.")
            return EXIT_OK, {"deleted": a.name}
        return self.run_job(self.services.test_spec(connector=self.connector_as_given(a.name, a.param, a.secret)))

    def connector_as_given(self, name: str, params: Sequence[str], secrets: Sequence[str]) -> str | ConnectorSettings:
        """Connector ``name`` with ``--param``/``--secret`` overrides (saving nothing), or just its name."""
        if not params and not secrets:
            return name
        from almdesk.base.fields import FieldKind
        from almdesk.config import NETWORK_FIELDS, secret_fields

        cfg = self.config
        info = cfg.connector(name)
        system = self.services.registry.get(info.system)
        own = [f.name for f in system.connector_fields if f.kind is not FieldKind.SECRET]
        network = [f.name for f in NETWORK_FIELDS if f.kind is not FieldKind.SECRET]
        overrides = parse_kv(params)
        check_keys("--param", overrides, [*own, *network], f"{system.label} connector",
                   "a secret goes with --secret KEY (read from a prompt or standard input)")
        check_keys("--secret", secrets, secret_fields(system), f"{system.label} connector")
        typed = read_secrets(list(secrets), self.stdin)  # for this test only: never stored
        return cfg.draft_connector(info.id, info.system, {**info.params, **{k: v for k, v in overrides.items()
                                                                           if k in own}},
                                   typed, {**info.network, **{k: v for k, v in overrides.items() if k in network}})

    def connection_as_given(self, alias: str, params: Sequence[str]) -> str | ConnectionSettings:
        """Connection ``alias`` with ``--param`` overrides (saving nothing), or just its alias."""
        if not params:
            return alias
        from almdesk.config import connection_fields

        info = self.config.connection(alias)
        system = self.services.registry.get(info.system)
        overrides = parse_kv(params)
        check_keys("--param", overrides, [f.name for f in connection_fields(system)], f"{system.label} connection")
        return self.config.draft_connection(info.id, info.connector, info.project, {**info.params, **overrides})

    # --- connections ------------------------------------------------------------------------
    def connection(self) -> tuple[int, Any]:
        a, cfg = self.args, self.config
        if a.action == "add":
            cid = cfg.save_connection(a.alias, a.connector, a.project, parse_kv(a.param), frequency=a.frequency,
                                      debug_mode=a.debug)
            self.say(f"Connection {a.alias!r} added.")
            return EXIT_OK, {"id": cid, "alias": a.alias}
        if a.action == "list":
            rows = cli_remote.with_server([asdict(c) for c in cfg.connections()], self.services)
            for r in rows:
                self.say(f"{r['alias']:30} {r['system']:8} {r['connector']:20} {r['project']:20} {r['frequency']}"
                         + r["server_text"])
            return EXIT_OK, rows
        if a.action == "show":
            shown = asdict(cfg.connection(a.alias))
            self.say(json.dumps(shown, indent=2, default=str))
            return EXIT_OK, shown
        if a.action == "edit":
            info = cfg.connection(a.alias)
            cfg.save_connection(info.alias, info.connector, a.project or info.project,
                                {**info.params, **parse_kv(a.param)}, frequency=a.frequency or info.frequency,
                                debug_mode=info.debug_mode if a.debug is None else a.debug, connection_id=info.id)
            self.say(f"Connection {a.alias!r} saved.")
            return EXIT_OK, {"id": info.id}
        if a.action == "rm":
            cfg.delete_connection(a.alias)
            self.say(f"Connection {a.alias!r} deleted.")
            return EXIT_OK, {"deleted": a.alias}
        return self.run_job(self.services.test_spec(connection=self.connection_as_given(a.alias, a.param)))

    # --- projects ---------------------------------------------------------------------------
    def project(self) -> tuple[int, Any]:
        a, cfg = self.args, self.config
        if a.action == "add" and a.source:
            return cli_source.add_bound(self.services, a, self.say, self.run_job)
        if a.action in ("refresh", "test"):
            spec = self.services.refresh_spec(a.name) if a.action == "refresh" else self.services.project_test_spec(a.name)
            return self.run_job(spec)
        if a.action == "pick":
            return cli_source.pick(self.services, a, self.say)
        if a.action == "add":
            pid = cfg.add_project(a.name, a.business_unit, a.application)
            self.say(f"Project {a.name!r} added.")
            return EXIT_OK, {"id": pid}
        if a.action == "list":
            rows = cfg.projects()
            for r in rows:
                source = f"  from {r['source']} #{r['sde_project']}, refreshed {r['last_refresh'] or 'never'}" \
                    if r["source"] else ""
                self.say(f"{r['name']:30} {r['business_unit']:15} {r['application']:15} {r['tasks']} tasks{source}")
            return EXIT_OK, rows
        from pathlib import Path

        from almdesk.sync.tasks_io import import_tasks

        result = import_tasks(self.services.store, cfg.project_id(a.name), Path(a.file))
        self.say(f"Imported {a.file}: {result}")
        return EXIT_OK, result

    # --- jobs -------------------------------------------------------------------------------
    def run_job(self, spec: JobSpec) -> tuple[int, Any]:
        self.events = []

        def show(ev: JobEvent) -> None:
            self.events.append(ev)
            if ev.status != "running":
                self.say(f"  [{ev.status:>7}] {ev.item}{': ' + ev.message if ev.message else ''}")

        def log(level: str, message: str) -> None:
            if not self.json:
                print(f"  {level}: {message}", file=sys.stderr)

        started = time.monotonic()
        result: JobResult = self.services.run(spec, JobContext(on_log=log), on_event=show)
        self.seconds = time.monotonic() - started
        outcome = result.outcome
        self.say(outcome.message)
        doc = {"job_id": result.job_id, "state": result.state, "succeeded": outcome.succeeded,
               "message": outcome.message, "counts": outcome.counts, **outcome.data}
        if result.error is not None and isinstance(result.error, UserFacingError):
            doc["exit_code"] = result.error.exit_code
            return result.error.exit_code, doc
        if result.state == "succeeded":
            return EXIT_OK, doc
        # a failed Test Connection step that could not reach or authenticate exits 3, like the error would
        if outcome.failure is not None and outcome.failure.exit_code == EXIT_REMOTE:
            return EXIT_REMOTE, doc
        return EXIT_FAILED, doc

    def sync(self) -> tuple[int, Any]:
        a = self.args
        if a.due:
            if a.param:
                raise UsageError("--param applies to one connection, not to --due.",
                                 "almdesk sync ALIAS [--dry-run] --param KEY=VALUE")
            from datetime import UTC, datetime

            from almdesk.sync.schedule import due_connections

            docs, worst, suites = [], EXIT_OK, []
            for cid in due_connections(self.services.store, datetime.now(UTC)):
                spec = self.services.sync_spec(cid, automatic=True)
                code, doc = self.run_job(spec)
                suites.append(sync_suite(self.config.connection(cid).alias, spec.title, code, doc, self.events,
                                         self.seconds))
                docs.append(doc)
                worst = max(worst, code)
            self.say(f"{len(docs)} connection(s) were due.")
            if a.junit:
                write_junit(a.junit, suites)
            return worst, docs
        if not a.alias:
            raise UsageError("Name the connection to sync, or use --due.", "almdesk sync ALIAS [--dry-run]")
        spec = self.services.sync_spec(self.connection_as_given(a.alias, a.param), dry_run=a.dry_run)
        code, doc = self.run_job(spec)
        if a.junit:
            write_junit(a.junit, [sync_suite(a.alias, spec.title, code, doc, self.events, self.seconds)])
        if a.dry_run and not self.json:
            for row in doc.get("plan", []):
                self.say(f"  {row.get('task_id', ''):10} {row.get('action', ''):14} {row.get('alm_key', '') or ''}")
        return code, doc

    # --- links ------------------------------------------------------------------------------
    def links(self) -> tuple[int, Any]:
        from almdesk.sync.link_admin import filter_links, list_links

        info = self.config.connection(self.args.alias)
        rows = filter_links(list_links(self.services.store, info.id), state=self.args.state or "")
        for r in rows:
            seen = r.seen.astimezone().strftime("%Y-%m-%d %H:%M") if r.seen else "-"
            self.say(f"{r.task_id:10} {r.alm_key or '-':14} {r.state:9} {r.status or '-':16} {seen:16} {r.url or '-'}"
                     + (f"  ({r.message})" if r.message else ""))
        self.say(f"{len(rows)} link(s) of {info.alias}.")
        return EXIT_OK, [r.as_dict() for r in rows]

    def link(self) -> tuple[int, Any]:
        from almdesk.sync.link_admin import link_task

        settings = self.config.connection_settings(self.args.alias)
        system = self.services.registry.get(settings.connector.system)
        view = link_task(self.services.store, system, settings, self.services.http_for(settings.connector),
                         self.args.task, self.args.item, JobContext())
        self.say(f"Linked {view.task_id} to {view.alm_key} ({view.url}).")
        return EXIT_OK, view.as_dict()

    def unlink(self) -> tuple[int, Any]:
        from almdesk.sync.link_admin import unlink_task

        info = self.config.connection(self.args.alias)
        view = unlink_task(self.services.store, info.id, self.args.task)
        self.say(f"Detached {view.task_id}" + (f" from {view.alm_key}" if view.alm_key else "")
                 + f": syncs of {info.alias} leave it alone until 'almdesk link {info.alias} {view.task_id} ITEM'.")
        return EXIT_OK, view.as_dict()

    def gate(self) -> tuple[int, Any]:
        a = self.args
        req = GateRequest(release=a.release, phases=[p for x in a.phase for p in split_list(x)],
                          severities=[s for x in a.severity for s in split_list(x)],
                          labels=[s for x in a.label for s in split_list(x)], threshold=a.threshold,
                          operator=normalize_operator(a.operator), workspace=a.workspace)
        spec = self.services.gate_spec(req, connection=a.connection, connector=a.connector)
        code, doc = self.run_job(spec)
        if a.junit:
            write_junit(a.junit, [gate_suite(a.connection or a.connector or "", spec.title, code, doc, self.seconds)])
        return code, doc

    def defect(self) -> tuple[int, Any]:
        a = self.args
        req = DefectRequest(a.name, a.description, a.release, a.severity, a.phase, a.workspace)
        return self.run_job(self.services.defect_spec(req, connection=a.connection, connector=a.connector))

    def jobs(self) -> tuple[int, Any]:
        from almdesk.jobs.history import recent_jobs

        conn_id = self.config.connection(self.args.connection).id if self.args.connection else None
        rows = recent_jobs(self.services.store, connection_id=conn_id, limit=self.args.last)
        for r in rows:
            self.say(f"#{r['id']:<5} {r['started'] or '':32} {r['kind']:16} {r['state']:10} {r['result_message']}")
        return EXIT_OK, rows

    def export(self) -> tuple[int, Any]:
        from almdesk.transfer import export_config

        doc = export_config(self.config)
        text = json.dumps(doc, indent=2)
        if self.args.out:
            from pathlib import Path

            Path(self.args.out).write_text(text + "\n", encoding="utf-8")
            self.say(f"Exported {len(doc['connectors'])} connector(s) and {len(doc['results'])} connection(s) "
                     f"to {self.args.out}.")
        elif not self.json:
            print(text, file=self.stdout)
        return EXIT_OK, doc

    def import_(self) -> tuple[int, Any]:
        from pathlib import Path

        from almdesk.transfer import apply_import, plan_import

        plan = plan_import(self.config, Path(self.args.file))
        secrets: dict[str, dict[str, str]] = {}
        for name, keys in plan.missing_secrets.items():
            if keys and isinstance(self.services.secrets, EnvSecretStore):  # headless: never asked for
                secrets[name] = self.env_secrets(name, keys)
            elif keys:
                needed = plan.required_secrets.get(name, [])
                optional = [k for k in keys if k not in needed]
                shown = ", ".join(k + ("" if k in needed else " (optional: an empty line skips it)") for k in keys)
                self.say(f"Connector {name!r} needs: {shown} (one line each on standard input)")
                secrets[name] = self.read_secrets(keys, optional)
        summary = apply_import(self.config, plan, secrets)
        for warning in summary.get("warnings", []):
            self.say(f"warning: {warning}")
        if summary.get("secrets_note"):
            self.say(summary["secrets_note"])
        self.say(f"Imported {summary['connectors']} connector(s) and {summary['connections']} connection(s).")
        return EXIT_OK, summary

    def env_secrets(self, connector: str, keys: Sequence[str]) -> dict[str, str]:
        """The secrets of ``connector`` the environment holds (headless import); says which it read."""
        store = self.services.secrets
        found = {k: v for k in keys if (v := store.by_name(connector, k))}
        names = ", ".join(env_var(connector, k) + ("" if k in found else " (not set)") for k in keys)
        self.say(f"Connector {connector!r}: secrets from the environment: {names}")
        return found

    def bundle(self) -> tuple[int, Any]:
        from almdesk.bundle import support_bundle

        path = support_bundle(self.services, connection=self.args.connection, job_id=self.args.job,
                              out_dir=self.args.out or self.services.paths.bundles)
        self.say(f"Support bundle written to {path}.")
        return EXIT_OK, {"path": str(path)}


def junit_error(argv: Sequence[str], code: int, doc: dict[str, Any]) -> None:
    """A gate or sync that could not even start still writes its ``--junit`` file: one error testcase."""
    argv = list(argv)
    command = next((a for a in argv if a in ("gate", "sync")), None)
    path = next((argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "--junit"), None)
    path = path or next((a.split("=", 1)[1] for a in argv if a.startswith("--junit=")), None)
    if command is None or not path:
        return
    case = outcome_case(f"almdesk.{command}", f"almdesk {' '.join(argv)}", code, doc)
    try:
        write_junit(path, [Suite(f"almdesk {command}", [case])])
    except OSError as exc:
        print(f"error: cannot write {path}: {exc}", file=sys.stderr)


def main(argv: Sequence[str] | None = None, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    parser = build_parser()
    want_json = "--json" in (argv if argv is not None else sys.argv[1:])
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            from almdesk.app import main as gui_main

            return gui_main(["almdesk", *(["--data-dir", args.data_dir] if args.data_dir else []),
                             *(["--demo"] if args.demo else []), *(["--smoke"] if args.smoke else []),
                             *(["--theme", args.theme] if args.theme else [])])
        if args.command == "sandbox":
            from almdesk.cli_sandbox import sandbox_main

            return sandbox_main(args, stdout)
        cli = Cli(args, stdin, stdout)
        handler = {"connector": cli.connector, "connection": cli.connection, "project": cli.project,
                   "sync": cli.sync, "gate": cli.gate, "defect": cli.defect, "jobs": cli.jobs,
                   "export": cli.export, "import": cli.import_, "bundle": cli.bundle, "links": cli.links,
                   "link": cli.link, "unlink": cli.unlink, "remote": cli_remote.handler(cli)}[args.command]
        code, doc = handler()
        if args.json:
            print(json.dumps({"ok": code == EXIT_OK, "exit_code": code, "result": doc}, default=str), file=stdout)
        return code
    except UserFacingError as exc:
        failure: dict[str, Any] = {"ok": False, "exit_code": exc.exit_code, "error": exc.message,
                                   "hint": exc.hint, "field": exc.field}
        junit_error(argv if argv is not None else sys.argv[1:], exc.exit_code, failure)
        if isinstance(exc, FieldErrors):
            failure["errors"] = {k: {"message": e.message, "hint": e.hint} for k, e in exc.errors.items()}
        if want_json:
            print(json.dumps(failure), file=stdout)
        else:
            print(f"error: {exc.message}", file=sys.stderr)
            if exc.hint:
                print(f"hint: {exc.hint}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
