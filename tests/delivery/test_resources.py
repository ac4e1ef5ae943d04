"""resources/: the .desktop file and the AppStream metainfo pass Debian's validators, the icon's PNGs are
the sizes they are named for, the metainfo names this version and existing screenshots, the demo's
tasks are the generator's, and the app uses the icon (window, About)."""

from __future__ import annotations

import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from almdesk import __version__
from almdesk.shipped import APP_ID, ICON_SIZES, demo_tasks_file, icon_files, resources_dir

ROOT = Path(__file__).resolve().parents[2]
RESOURCES = ROOT / "resources"
DESKTOP = RESOURCES / f"{APP_ID}.desktop"
METAINFO = RESOURCES / f"{APP_ID}.metainfo.xml"


def tool(name: str) -> str:
    path = shutil.which(name)
    assert path, f"{name} is missing: scripts/system-deps installs it"  # never skipped
    return path


def test_the_checkout_resources_are_the_source() -> None:
    assert resources_dir() == RESOURCES


def test_desktop_file_validates() -> None:
    run = subprocess.run([tool("desktop-file-validate"), str(DESKTOP)], capture_output=True, text=True)
    assert run.returncode == 0 and not run.stdout.strip(), run.stdout + run.stderr
    entry = dict(line.split("=", 1) for line in DESKTOP.read_text().splitlines() if "=" in line)
    assert entry["Exec"] == "almdesk-gui" and entry["Icon"] == APP_ID and entry["StartupWMClass"] == "almdesk"


def test_metainfo_validates_and_matches_the_app() -> None:
    run = subprocess.run([tool("appstreamcli"), "validate", "--no-net", "--pedantic", str(METAINFO)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Validation was successful." in run.stdout and "pedantic" not in run.stdout, run.stdout
    root = ET.parse(METAINFO).getroot()
    assert root.findtext("id") == APP_ID
    assert root.find("launchable").text == DESKTOP.name  # type: ignore[union-attr]
    assert root.find("releases/release").get("version") == __version__  # type: ignore[union-attr]
    assert {b.text for b in root.iter("binary")} == {"almdesk", "almdesk-gui"}
    shots = [img.text or "" for img in root.iter("image")]
    assert shots
    for url in shots:
        assert (ROOT / "docs" / "screenshots" / url.rsplit("/", 1)[-1]).is_file(), url


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR", path
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def test_icon_pngs_have_their_sizes() -> None:
    assert (RESOURCES / "icons" / "almdesk.svg").read_text().lstrip().startswith("<?xml")
    files = icon_files()
    assert [png_size(p) for p in files] == [(n, n) for n in ICON_SIZES]


def test_demo_tasks_are_the_generators() -> None:
    import json

    from almdesk.demo import DEMO_TASKS
    from almdesk.sync.demo import demo_tasks

    assert json.loads(demo_tasks_file().read_text()) == demo_tasks(DEMO_TASKS, seed=1)


@pytest.mark.usefixtures("qapp")
def test_app_icon_has_every_size() -> None:
    from almdesk.desktop import app_icon

    icon = app_icon()
    assert not icon.isNull()
    assert sorted(s.width() for s in icon.availableSizes()) == list(ICON_SIZES)
