"""The command line's grammar: every command and option of ``almdesk`` (DESIGN §7), and its usage error.

:func:`build_parser` is the whole parser; bad usage raises :class:`UsageError` (exit code 2) instead
of argparse's own exit, so ``--json`` still answers with a document.
"""

from __future__ import annotations

import argparse

from almdesk import __version__, cli_remote, cli_source
from almdesk.errors import ConfigError


class UsageError(ConfigError):
    """Bad command-line usage."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}", f"Run '{self.prog} --help' for usage.")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="almdesk", description="Configure, test and sync ALM connectors (Octane, Jira, GitHub, Rally).")
    p.add_argument("--data-dir", help="where the database, logs and traces live (default: platform data dir; "
                                      "or ALMDESK_HOME)")
    p.add_argument("--json", action="store_true", help="print one JSON document with the result")
    p.add_argument("--version", action="version", version=f"almdesk {__version__}")
    p.add_argument("--demo", action="store_true", help="GUI: start the sandbox demo when nothing is configured")
    p.add_argument("--smoke", action="store_true", help=argparse.SUPPRESS)  # GUI: window up, pages built, quit
    p.add_argument("--theme", choices=("system", "light", "dark"),  # almdesk.ui.theme.THEMES (no Qt here)
                   help="GUI: colours (default: system, or ALMDESK_THEME)")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)

    sb = sub.add_parser("sandbox", help="start loopback simulators of the four ALM systems and SD Elements")
    sb.add_argument("--only", action="append", help="start only this system (repeatable)")
    sb.add_argument("--port", type=int, default=0, help="first port (0 = free ports)")
    sb.add_argument("--faults", default="", help="e.g. 500:0.05,429:0.05,reset:0.02,slow:0.02,expire:0.01")
    sb.add_argument("--seed", type=int, default=0)
    sb.add_argument("--strict-rate-limits", action="store_true")
    sb.add_argument("--jira-mode", choices=("cloud", "dc"), default="cloud", help="Jira Cloud or Data Center")
    sb.add_argument("--latency", type=float, default=0.0, metavar="SECONDS",
                    help="wait this long on the server before every answer (a network's round trip)")
    sb.add_argument("--server-cost", type=float, default=0.0, metavar="SECONDS",
                    help="wait this long per item of a bulk write (the server's work per item)")

    def params(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
        sp.add_argument("--secret", action="append", default=[], metavar="KEY",
                        help="read this secret from standard input (one line each, in order)")

    cr = sub.add_parser("connector", help="manage connectors").add_subparsers(dest="action", required=True,
                                                                             parser_class=_Parser)
    a = cr.add_parser("add")
    a.add_argument("--system", required=True)
    a.add_argument("--name", required=True)
    params(a)
    cr.add_parser("list")
    for verb in ("show", "rm"):
        cr.add_parser(verb).add_argument("name")
    t = cr.add_parser("test", help="run Test Connection; --param/--secret try other values, saving nothing",
                      description="Test Connection of a connector. --param and --secret override its stored "
                                  "settings for this test only: nothing is saved, the stored settings and the "
                                  "keyring stay as they were.")
    t.add_argument("name")
    t.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="try this value instead of the stored one (a connector or Network field)")
    t.add_argument("--secret", action="append", default=[], metavar="KEY",
                   help="try this secret instead of the stored one: read from a prompt without echo on a "
                        "terminal, else one line each from standard input, in order (never from the command line)")
    e = cr.add_parser("edit")
    e.add_argument("name")
    e.add_argument("--rename")
    params(e)

    cn = sub.add_parser("connection", help="manage connections").add_subparsers(dest="action", required=True,
                                                                                parser_class=_Parser)
    a = cn.add_parser("add")
    a.add_argument("--connector", required=True)
    a.add_argument("--alias", required=True)
    a.add_argument("--project", required=True)
    a.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    a.add_argument("--frequency", default="manually")
    a.add_argument("--debug", action="store_true")
    cn.add_parser("list")
    for verb in ("show", "rm"):
        cn.add_parser(verb).add_argument("alias")
    t = cn.add_parser("test", help="run Test Connection; --param tries other values, saving nothing",
                      description="Test Connection of a connection. --param overrides its stored settings for "
                                  "this test only: nothing is saved.")
    t.add_argument("alias")
    t.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="try this value instead of the stored one (a connection field)")
    e = cn.add_parser("edit")
    e.add_argument("alias")
    e.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    e.add_argument("--frequency")
    e.add_argument("--project")
    e.add_argument("--debug", action=argparse.BooleanOptionalAction, default=None)

    pr = sub.add_parser("project", help="manage projects and their tasks").add_subparsers(
        dest="action", required=True, parser_class=_Parser)
    a = pr.add_parser("add")
    a.add_argument("name")
    a.add_argument("--business-unit", default="")
    a.add_argument("--application", default="")
    cli_source.add_arguments(a, pr)
    i = pr.add_parser("import")
    i.add_argument("name")
    i.add_argument("file")
    pr.add_parser("list")

    sy = sub.add_parser("sync", help="sync a connection's tasks into the ALM")
    sy.add_argument("alias", nargs="?")
    sy.add_argument("--dry-run", action="store_true")
    sy.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                    help="run with this value instead of the stored one (a connection field); nothing is saved")
    sy.add_argument("--due", action="store_true", help="run every connection whose schedule is due")
    sy.add_argument("--junit", metavar="FILE", help="also write a JUnit XML report (one testcase per failed item)")

    lk = sub.add_parser("links", help="list a connection's links (task, item, URL, status, state)")
    lk.add_argument("alias")
    lk.add_argument("--state", choices=("linked", "detached", "failed"), help="only links in this state")
    ln = sub.add_parser("link", help="link a task to an existing ALM item (by key, number or URL; creates nothing)")
    ln.add_argument("alias")
    ln.add_argument("task", help="the task id, e.g. T21")
    ln.add_argument("item", help="the item's key, number or URL, e.g. DEMO-12, #12, US12 or its browser link")
    un = sub.add_parser("unlink", help="detach a task: later syncs neither re-link nor re-create its item")
    un.add_argument("alias")
    un.add_argument("task")

    def target(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--connection")
        sp.add_argument("--connector")
        sp.add_argument("--workspace", default="")

    g = sub.add_parser("gate", help="count matching defects and compare with a threshold")
    target(g)
    g.add_argument("--release", default="")
    g.add_argument("--phase", action="append", default=[])
    g.add_argument("--severity", action="append", default=[])
    g.add_argument("--label", action="append", default=[])
    g.add_argument("--threshold", type=int, required=True)
    g.add_argument("--operator", required=True, help="< <= = >= > (or LT GT EQ)")
    g.add_argument("--junit", metavar="FILE", help="also write a JUnit XML report (one testcase for the gate)")

    d = sub.add_parser("defect", help="create a defect").add_subparsers(dest="action", required=True,
                                                                        parser_class=_Parser)
    c = d.add_parser("create")
    target(c)
    c.add_argument("--name", required=True)
    c.add_argument("--release", default="")
    c.add_argument("--description", default="")
    c.add_argument("--severity", default="")
    c.add_argument("--phase", default="")

    j = sub.add_parser("jobs", help="list recent jobs")
    j.add_argument("--connection")
    j.add_argument("--last", type=int, default=20)

    b = sub.add_parser("bundle", help="write a support bundle zip (redacted traces, job log, settings, versions)")
    b.add_argument("--connection")
    b.add_argument("--job", type=int)
    b.add_argument("--out", help="directory for the zip (default: the data dir's bundles/)")

    x = sub.add_parser("export", help="export connectors and connections (no secrets)")
    x.add_argument("--out")
    im = sub.add_parser("import", help="import connectors and connections")
    im.add_argument("file")
    cli_remote.add_parser(sub, _Parser)
    return p


