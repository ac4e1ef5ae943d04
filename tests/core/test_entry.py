"""The ``almdesk`` command's entry point: no command → the GUI before any heavy import, with the GUI's
options (``--theme`` too); anything else → the CLI, as before."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from almdesk import cli
from almdesk.entry import gui_arguments, main

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("argv", "gui"), [
    ([], []),
    (["--demo"], ["--demo"]),
    (["--data-dir", "/d", "--theme", "dark", "--smoke"], ["--data-dir", "/d", "--theme", "dark", "--smoke"]),
    (["--data-dir=/d", "--theme=light"], ["--data-dir=/d", "--theme=light"]),
    (["connector", "list"], None),
    (["--data-dir", "/d", "sync", "x"], None),
    (["--help"], None),
    (["--version"], None),
    (["--json"], None),
    (["--dem"], None),  # an abbreviation: argparse's to expand
    (["--data-dir"], None),  # the value missing: the parser's error
    (["--data-dir", "--demo"], None),
    (["--theme"], None),
])
def test_gui_arguments(argv: list[str], gui: list[str] | None) -> None:
    assert gui_arguments(argv) == gui


SPY = """
import sys
import almdesk.app as app
real = app.main
def spy(argv):
    heavy = sorted(m for m in ("almdesk.cli", "sqlalchemy", "keyring", "alembic", "requests") if m in sys.modules)
    print("handed over:", argv[1:], "heavy:", heavy, flush=True)
    return real(argv)
app.main = spy
from almdesk.entry import main
sys.argv[0] = "almdesk"
sys.exit(main())
"""


def test_no_command_starts_the_gui_before_the_heavy_imports(tmp_path: Path) -> None:
    """The real start (``--smoke``: window up, every page built, quit) through the entry point."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    env.pop("ALMDESK_DEMO", None)
    run = subprocess.run([sys.executable, "-c", SPY, "--data-dir", str(tmp_path / "data"), "--theme", "dark",
                          "--smoke"], capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    lines = run.stdout.splitlines()
    assert lines[0] == f"handed over: ['--data-dir', '{tmp_path / 'data'}', '--theme', 'dark', '--smoke'] heavy: []"
    assert any(line.startswith("smoke: window up") for line in lines), run.stdout


def test_a_command_goes_to_the_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--data-dir", str(tmp_path), "--json", "connector", "list"]) == 0
    doc = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert doc == {"ok": True, "exit_code": 0, "result": []}


def test_the_full_parser_passes_the_theme_to_the_gui(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``almdesk --json --theme dark`` (no command, but not the entry's quick form): the CLI hands over."""
    import almdesk.app

    seen: list[list[str]] = []

    def gui(argv: Any) -> int:
        seen.append(list(argv))
        return 0

    monkeypatch.setattr(almdesk.app, "main", gui)
    assert cli.main(["--data-dir", str(tmp_path), "--json", "--theme", "dark", "--demo"],
                    stdin=io.StringIO(), stdout=io.StringIO()) == 0
    assert seen == [["almdesk", "--data-dir", str(tmp_path), "--demo", "--theme", "dark"]]


def test_the_cli_theme_choices_are_the_guis() -> None:
    from almdesk.cli_parser import build_parser
    from almdesk.ui import theme

    action = next(a for a in build_parser()._actions if a.dest == "theme")
    assert tuple(action.choices or ()) == theme.THEMES
