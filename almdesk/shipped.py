"""The files almdesk ships (no Qt): the app icon, the ``.desktop`` file, the AppStream metainfo, the demo tasks.

Their one source is the checkout's top-level ``resources/``; a wheel carries a copy as ``almdesk/resources``
(setup.py's build step) and so does the frozen build (packaging/almdesk.spec). :func:`resources_dir`
finds whichever this module runs with.
"""

from __future__ import annotations

from pathlib import Path

APP_ID = "org.almdesk.almdesk"  # the .desktop file's and the AppStream component's id
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def resources_dir() -> Path:
    """``almdesk/resources`` (wheel, frozen build) or ``resources/`` of the checkout this module runs from
    (editable install, ``make run``)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "resources", here.parent / "resources"):
        if (candidate / f"{APP_ID}.desktop").is_file():
            return candidate
    raise FileNotFoundError(f"almdesk's resources are missing (looked in {here / 'resources'} and "
                            f"{here.parent / 'resources'})")


def icon_files() -> list[Path]:
    """The PNG renderings of the app icon, smallest first."""
    folder = resources_dir() / "icons"
    return [folder / f"almdesk-{size}.png" for size in ICON_SIZES]


def demo_tasks_file() -> Path:
    return resources_dir() / "demo-tasks.json"
