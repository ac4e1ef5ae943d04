"""The CLI's ``remote`` commands: an SD Elements server's ALM connectors and connections.

``remote pull SDE`` · ``remote plan SDE [--json]`` (exit 0: nothing to change, 1: something) ·
``remote push SDE [--yes] [--only NAME …] [--delete]`` (asks first unless --yes; deletions only
with --delete, confirmed) · ``remote test SDE NAME|ALIAS`` (the server's test beside almdesk's) ·
``remote reports SDE`` (send the queued job reports now). Also the server's columns of
``connection list`` (:func:`with_server`).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from almdesk.errors import EXIT_FAILED, EXIT_OK, ConfigError, UserFacingError

if TYPE_CHECKING:
    from almdesk.cli import Cli
    from almdesk.services import Services


def add_parser(sub: Any, parser_class: type[argparse.ArgumentParser]) -> None:
    remote = sub.add_parser("remote", help="pull, plan, push and test an SD Elements server's ALM connectors and "
                                           "connections").add_subparsers(dest="action", required=True,
                                                                          parser_class=parser_class)

    def action(name: str, text: str) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = remote.add_parser(name, help=text)
        p.add_argument("source", metavar="SDE_CONNECTOR", help="the SD Elements connector")
        p.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print one JSON document")
        return p

    action("pull", "bring the server's connectors and connections here (secrets to the keyring)")
    action("plan", "what a push would change on the server (exit 1 when something would)")
    push = action("push", "write the plan to the server")
    push.add_argument("--yes", action="store_true", help="do not ask before writing")
    push.add_argument("--only", nargs="+", default=[], metavar="NAME", help="only these connectors/connections")
    push.add_argument("--delete", action="store_true", help="also delete on the server what was deleted here")
    test = action("test", "the server's own test beside almdesk's Test Connection")
    test.add_argument("name", metavar="NAME|ALIAS")
    action("reports", "send the queued job reports now")


def _client(services: Services, source: str) -> Any:
    from almdesk.remote.items import source_id

    source_id(services.store, source)  # a clear error for a wrong connector
    return services.sde_client(source)


def _ask(cli: Cli, question: str) -> str:
    if cli.stdin.isatty():
        return input(question + " ")
    print(question, file=cli.stdout, flush=True)
    return cli.stdin.readline().strip()


def run(cli: Cli) -> tuple[int, Any]:
    args, services = cli.args, cli.services
    handler: dict[str, Callable[[Cli, Any], tuple[int, Any]]] = {
        "pull": _pull, "plan": _plan, "push": _push, "test": _test, "reports": _reports}
    client = _client(services, args.source)
    try:
        if args.action != "reports":  # queued job reports go first, best effort (they wait otherwise)
            try:
                _flush(cli)
            except UserFacingError:
                pass
        code, doc = handler[args.action](cli, client)
    finally:
        client.close()
    return code, doc


def _flush(cli: Cli) -> dict[str, int]:
    from almdesk.remote.items import source_id
    from almdesk.remote.reports import flush

    return flush(cli.services.store, source_id(cli.services.store, cli.args.source),
                 lambda: cli.services.sde_client(cli.args.source))


def _pull(cli: Cli, client: Any) -> tuple[int, Any]:
    from almdesk.remote.pull import pull

    report = pull(cli.config, cli.args.source, client)
    for line in report.lines():
        cli.say(line)
    return EXIT_OK, report.as_dict()


def _plan(cli: Cli, client: Any) -> tuple[int, Any]:
    from almdesk.remote.plan import build_plan

    plan = build_plan(cli.config, cli.args.source, client)
    for line in plan.lines():
        cli.say(line)
    return (EXIT_FAILED if plan.pending else EXIT_OK), plan.as_dict()


def _push(cli: Cli, client: Any) -> tuple[int, Any]:
    from almdesk.remote.plan import build_plan
    from almdesk.remote.push import push

    a = cli.args
    only = set(a.only) or None
    plan = build_plan(cli.config, a.source, client)
    chosen = [c for c in plan.pending if not only or c.name in only]
    writes = [c for c in chosen if c.action != "delete"]
    deletes = [c for c in chosen if c.action == "delete"] if a.delete else []
    for line in plan.lines():
        cli.say(line)
    if not writes and not deletes:
        cli.say("Nothing to push.")
        return EXIT_OK, {"done": [], "left": [], "plan": plan.as_dict()}
    if not a.yes:
        if writes and _ask(cli, f"Write {len(writes)} change(s) to the server? [y/N]").lower() not in ("y", "yes"):
            raise ConfigError("Nothing was pushed.", "Answer y to push, or use --yes.")
        if deletes and _ask(cli, f"Delete {len(deletes)} item(s) on the server ("
                                 f"{', '.join(c.name for c in deletes)})? Type 'delete' to confirm:") != "delete":
            raise ConfigError("Nothing was pushed: the deletion was not confirmed.",
                              "Type delete to confirm, or push without --delete.")
    report = push(cli.config, a.source, client, only=only, delete=bool(deletes),
                  progress=lambda _i, _n, text: cli.say(f"  … {text}"))
    for line in report.lines():
        cli.say(line)
    doc = {**report.as_dict(), "plan": plan.as_dict()}
    if report.error is not None:
        cli.say(f"error: {report.error.message}")
        if report.error.hint:
            cli.say(f"hint: {report.error.hint}")
        return report.error.exit_code, doc
    return EXIT_OK, doc


def _test(cli: Cli, client: Any) -> tuple[int, Any]:
    from almdesk.remote.check import server_test, verdict

    a, services = cli.args, cli.services
    server = server_test(cli.config, a.source, client, a.name)
    cli.say(f"Server ({server.kind} {a.name!r}): {'success' if server.success else 'failed'} — {server.detail}")
    spec = services.test_spec(connector=a.name) if server.kind == "connector" else services.test_spec(connection=a.name)
    _code, desktop = cli.run_job(spec)
    text = verdict(server, desktop.get("succeeded") is True)
    cli.say(text)
    agree = server.success == (desktop.get("succeeded") is True)
    return (EXIT_OK if agree and server.success else EXIT_FAILED), {
        "server": server.as_dict(), "desktop": desktop, "agree": agree, "verdict": text}


def _reports(cli: Cli, client: Any) -> tuple[int, Any]:
    from almdesk.remote.items import source_id
    from almdesk.remote.reports import pending

    counts = _flush(cli)
    left = pending(cli.services.store, source_id(cli.services.store, cli.args.source))
    cli.say(f"{counts['sent']} report(s) sent, {counts['already']} already on the server, {len(left)} waiting.")
    return (EXIT_OK if not left else EXIT_FAILED), {**counts, "pending": left}


def with_server(rows: list[dict[str, Any]], services: Services) -> list[dict[str, Any]]:
    """``connection list`` rows with what the server says of mirrored ones (``server`` and a text)."""
    from almdesk.remote.items import mirror_of

    for row in rows:
        mirror = mirror_of(services.store, connection_id=row["id"])
        facts = dict(mirror.server) if mirror else {}
        row["server"] = facts or None
        if not facts:
            row["server_text"] = ""
            continue
        last = facts.get("last_job") or {}
        job = (f"last job {'ok' if last.get('succeeded') else 'failed'} {str(last.get('last_run') or '')[:16]}"
               + (f" ({last.get('result_message')})" if last.get("result_message") else "")) if last else "no job yet"
        busy = ", in progress" if facts.get("in_progress") else ""
        row["server_text"] = f"  server #{mirror.server_id if mirror else '?'}: {facts.get('frequency', '?')}, {job}{busy}"
    return rows


def handler(cli: Cli) -> Callable[[], tuple[int, Any]]:
    """The ``remote`` command's handler for :func:`almdesk.cli.main`."""
    return lambda: run(cli)
