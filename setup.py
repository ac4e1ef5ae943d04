"""Build step: the top-level ``resources/`` (icon, .desktop file, AppStream metainfo, demo tasks) is
copied into the package as ``almdesk/resources`` when a wheel is built, so the installed package
carries them. ``resources/`` stays the one source; a checkout (or an editable install) reads it in
place (``almdesk.desktop.resources_dir``). Everything else is configured in ``pyproject.toml``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

RESOURCES = Path(__file__).parent / "resources"


class BuildPyWithResources(build_py):
    """``build_py`` that also copies ``resources/`` to ``<build_lib>/almdesk/resources``."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:  # an editable install reads resources/ in place
            return
        target = Path(self.build_lib) / "almdesk" / "resources"
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(RESOURCES, target, ignore=shutil.ignore_patterns("*~", ".*"))


setup(cmdclass={"build_py": BuildPyWithResources})
