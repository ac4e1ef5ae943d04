"""The keyring backend almdesk picks is the one keyring itself picks, found without the macOS probe."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

CHOSEN = ("import ctypes.util, keyring; from almdesk.secrets import SecretStore, default_backend; "
          "calls = []; find = ctypes.util.find_library; "
          "ctypes.util.find_library = lambda name: calls.append(name) or find(name); {pick}; "
          "print(type(b).__module__ + '.' + type(b).__name__, SecretStore(b).backend_name, len(calls))")


def _run(pick: str) -> list[str]:
    """In a fresh process (keyring caches its choice): the backend, its name, find_library calls made."""
    out = subprocess.run([sys.executable, "-c", CHOSEN.format(pick=pick)], capture_output=True, text=True,
                         check=True, env=dict(os.environ)).stdout.split()
    return [out[0], " ".join(out[1:-1]), out[-1]]


@pytest.mark.skipif(sys.platform == "darwin", reason="on macOS the macOS backend is probed as keyring does")
def test_default_backend_is_keyrings_choice_without_the_macos_probe() -> None:
    ours = _run("b = default_backend()")
    theirs = _run("b = keyring.get_keyring()")
    assert ours[:2] == theirs[:2]  # same backend class, same name shown in the status bar
    assert ours[2] == "0" and int(theirs[2]) >= 1  # keyring's macOS probe: ldconfig/gcc runs on Linux
    if os.environ.get("DBUS_SESSION_BUS_ADDRESS"):  # the tests' private session (scripts/with-keyring)
        assert ours[0] == "keyring.backends.SecretService.Keyring"


def test_no_stub_left_behind() -> None:
    from almdesk.secrets import default_backend

    default_backend()
    assert sys.modules.get("keyring.backends.macOS.api", "absent") is not None
