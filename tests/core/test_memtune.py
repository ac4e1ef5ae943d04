"""almdesk.memtune: the glibc mmap threshold is fixed at start-up (observed through glibc's own counters in a
fresh process), the call is harmless anywhere, and the command line makes it first."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from almdesk import memtune

ROOT = Path(__file__).resolve().parents[2]
glibc_only = pytest.mark.skipif(not memtune.is_glibc(), reason="glibc's mallopt")

# In a fresh process: free a 1 MiB block (glibc would then raise its threshold to 1 MiB), allocate 512 KiB
# and ask mallinfo2 whether that block was mmapped (hblks) or came from the heap.
PROBE = textwrap.dedent("""
    import ctypes, sys
    from almdesk import memtune
    applied = memtune.tune_malloc() if sys.argv[1] == "tune" else None
    class Mallinfo2(ctypes.Structure):
        _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd",
                                                          "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = (ctypes.c_size_t,)
    libc.free.argtypes = (ctypes.c_void_p,)
    libc.mallinfo2.restype = Mallinfo2
    libc.free(libc.malloc(1 << 20))
    before = libc.mallinfo2().hblks
    block = libc.malloc(512 * 1024)
    print(applied, libc.mallinfo2().hblks - before)
    libc.free(block)
""")


def _probe(mode: str, **env: str) -> tuple[str, int]:
    clean = {k: v for k, v in os.environ.items() if k not in ("MALLOC_MMAP_THRESHOLD_", memtune.OFF_SWITCH)}
    out = subprocess.run([sys.executable, "-c", PROBE, mode], cwd=ROOT, env={**clean, **env}, capture_output=True,
                         text=True, timeout=60, check=True).stdout.split()
    return out[0], int(out[1])


@glibc_only
def test_the_threshold_stays_fixed_after_a_big_free() -> None:
    assert _probe("plain") == ("None", 0)  # glibc raised its threshold: 512 KiB came from the heap
    assert _probe("tune") == ("True", 1)  # fixed at 128 KiB: mmapped, given back to the system on free


@glibc_only
def test_an_explicit_threshold_or_the_off_switch_is_respected() -> None:
    assert _probe("tune", MALLOC_MMAP_THRESHOLD_="4194304") == ("False", 0)
    assert _probe("tune", ALMDESK_MEMTUNE="0") == ("False", 0)


def test_harmless_to_call_again_and_elsewhere(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    monkeypatch.delenv(memtune.OFF_SWITCH, raising=False)
    assert memtune.tune_malloc() is memtune.tune_malloc() is memtune.is_glibc()
    monkeypatch.setattr(memtune.sys, "platform", "darwin")
    assert memtune.tune_malloc() is False
    monkeypatch.setattr(memtune.sys, "platform", "linux")

    def broken(name: str) -> str:
        raise ValueError(name)

    monkeypatch.setattr(memtune.os, "confstr", broken)
    assert memtune.is_glibc() is False and memtune.tune_malloc() is False


def test_cli_and_gui_tune_first(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from almdesk import cli

    calls: list[str] = []
    monkeypatch.setattr(memtune, "tune_malloc", lambda *a: calls.append("tuned") or True)
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    assert "usage" in capsys.readouterr().out
    assert calls == ["tuned"]
    source = (ROOT / "almdesk" / "app.py").read_text()
    body = source[source.index("def main("):]
    first = next(line.strip() for line in body.splitlines()[1:] if line.strip())
    assert "tune_malloc()" in first
