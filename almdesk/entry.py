"""The ``almdesk`` command's entry point: the GUI without a command, the headless CLI with one.

Contract: :func:`main` looks at the arguments before importing anything of almdesk. When they hold no
command — only the top-level options the GUI takes (``--data-dir DIR``, ``--demo``, ``--smoke``,
``--theme system|light|dark``, also as ``--opt=value``) — it hands over to :func:`almdesk.app.main` at
once, so the window paints as early as ``almdesk-gui``'s (:mod:`almdesk.cli` imports SQLAlchemy, the
job records, … before its parser exists: ~0.3 s). Anything else (a command, ``--help``, ``--version``,
``--json``, an abbreviated or unknown option) goes to :func:`almdesk.cli.main`, which parses it fully
and behaves as it always did — with no command it hands over to the GUI too.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

GUI_FLAGS = frozenset({"--demo", "--smoke"})
GUI_OPTIONS = frozenset({"--data-dir", "--theme"})  # each takes a value


def gui_arguments(argv: Sequence[str]) -> list[str] | None:
    """``argv`` (without the program name) as the GUI's arguments when it holds only the GUI's own
    top-level options; None when it holds anything else (the CLI's full parser decides then)."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        name, eq, _value = arg.partition("=")
        if arg in GUI_FLAGS or (eq and name in GUI_OPTIONS):
            out.append(arg)
        elif arg in GUI_OPTIONS and i + 1 < len(argv) and not argv[i + 1].startswith("-"):
            out += [arg, argv[i + 1]]
            i += 1
        else:
            return None
        i += 1
    return out


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    gui = gui_arguments(args)
    if gui is not None:
        from almdesk.app import main as gui_main

        return gui_main(["almdesk", *gui])
    from almdesk.cli import main as cli_main

    return cli_main(args)


if __name__ == "__main__":
    sys.exit(main())
