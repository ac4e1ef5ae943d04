"""The wheel carries what an installed almdesk needs: both commands (``almdesk`` a console script,
``almdesk-gui`` a GUI script), the resources copied from the top-level ``resources/`` and the migrations;
installed, it runs from its own files. And constraints.txt pins every dependency."""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

from almdesk import __version__
from almdesk.shipped import APP_ID

ROOT = Path(__file__).resolve().parents[2]


def build_wheel(tmp_path: Path) -> Path:
    """``pip wheel --no-deps`` of a copy of the sources (the checkout's build/ stays untouched)."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "node_modules")
    shutil.copytree(ROOT / "almdesk", src / "almdesk", ignore=ignore)
    shutil.copytree(ROOT / "resources", src / "resources", ignore=ignore)
    out = tmp_path / "wheels"
    run = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                          "-w", str(out), str(src)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    [wheel] = out.glob("almdesk-*.whl")
    return wheel


def test_wheel_contents_and_installed_commands(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path)
    assert wheel.name.startswith(f"almdesk-{__version__}-py3-none-any")
    names = set(zipfile.ZipFile(wheel).namelist())
    for resource in (ROOT / "resources").rglob("*"):
        if resource.is_file():
            assert f"almdesk/resources/{resource.relative_to(ROOT / 'resources').as_posix()}" in names, resource
    assert f"almdesk/resources/{APP_ID}.desktop" in names and "almdesk/resources/icons/almdesk-512.png" in names
    assert any(re.fullmatch(r"almdesk/models/migrations/versions/.+\.py", n) for n in names)
    assert not any(n.startswith(("tests/", "resources/", "bench/")) for n in names)
    info = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    entry = configparser.ConfigParser()
    entry.read_string(zipfile.ZipFile(wheel).read(info).decode())
    assert dict(entry["console_scripts"]) == {"almdesk": "almdesk.entry:main"}
    assert dict(entry["gui_scripts"]) == {"almdesk-gui": "almdesk.app:main"}

    # installed (no deps: this venv has them), the commands are there and run from the installed files
    target = tmp_path / "installed"
    run = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target),
                          str(wheel)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert (target / "bin" / "almdesk").is_file() and (target / "bin" / "almdesk-gui").is_file()
    env = {**os.environ, "PYTHONPATH": str(target)}
    version = subprocess.run([str(target / "bin" / "almdesk"), "--version"], capture_output=True, text=True,
                             env=env, timeout=60)
    assert version.stdout.strip() == f"almdesk {__version__}", version.stderr
    where = subprocess.run([sys.executable, "-c", "import almdesk.shipped as s; print(s.resources_dir())"],
                           capture_output=True, text=True, env=env, timeout=60, cwd=tmp_path)
    assert Path(where.stdout.strip()) == target / "almdesk" / "resources", where.stderr


def test_constraints_pin_every_dependency() -> None:
    """A fresh install with -c constraints.txt gets the versions CI tested: every requirement of almdesk
    (and of its test and dist extras) is pinned, the pin satisfies it, and (but for the dist extra's,
    installed by `make dist` only) it is the version installed here."""
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version.strip()
    requirements = [Requirement(r) for r in metadata.requires("almdesk") or []]
    assert requirements
    for req in requirements:
        key = re.sub(r"[-_.]+", "-", req.name).lower()
        assert key in pins, f"{req.name} is not pinned in constraints.txt"
        assert req.specifier.contains(pins[key], prereleases=True), (req, pins[key])
        if "dist" not in str(req.marker or ""):
            assert metadata.version(req.name) == pins[key], (req.name, metadata.version(req.name), pins[key])
