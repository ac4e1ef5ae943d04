"""Start-up tuning of the C allocator: a fixed glibc mmap threshold, so big response bodies do not
fragment the heap.

glibc serves allocations of 128 KiB and more with ``mmap`` and returns them to the system on ``free``,
but after the first such free it raises its threshold (up to 32 MiB) and serves later big blocks from
the heap, where a long sync reading hundreds of big search pages can leave fragmentation behind.
:func:`tune_malloc` fixes the threshold at 128 KiB with ``mallopt(M_MMAP_THRESHOLD, …)``, which also
turns glibc's dynamic adjustment off, and sets the trim threshold back to 128 KiB. (Measured effect on
today's 50,000-task syncs: 0–1 MB; Jira's 279 MB re-sync peak had another cause, see
docs/performance.md, "Peak memory".)

Called first thing by the command line's and the GUI's ``main``. No Qt, no other import of almdesk.
It never raises: elsewhere than glibc (macOS, Windows, musl) it does nothing. A threshold the user set
with ``MALLOC_MMAP_THRESHOLD_`` is left alone, and ``ALMDESK_MEMTUNE=0`` turns the tuning off (to
measure without it).
"""

from __future__ import annotations

import ctypes
import os
import sys

M_TRIM_THRESHOLD = -1  # glibc's malloc.h
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 128 * 1024  # glibc's default starting threshold, kept fixed
OFF_SWITCH = "ALMDESK_MEMTUNE"


def is_glibc() -> bool:
    """True when this process runs on GNU libc (``confstr`` names it; never raises)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        version = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (AttributeError, ValueError, OSError):
        return False
    return version.startswith("glibc")


def tune_malloc(threshold: int = MMAP_THRESHOLD) -> bool:
    """Fix glibc's mmap threshold at ``threshold`` bytes; True when applied, False when not (never raises)."""
    try:
        if os.environ.get(OFF_SWITCH, "").strip() in ("0", "false", "no", "off"):
            return False
        if "MALLOC_MMAP_THRESHOLD_" in os.environ or not is_glibc():
            return False
        mallopt = ctypes.CDLL(None).mallopt  # the C library this process already runs on
        mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
        mallopt.restype = ctypes.c_int
        # glibc raised the trim threshold with the mmap threshold after each big free so far (imports free
        # some); mallopt(M_MMAP_THRESHOLD) leaves it there, so it is set back too (glibc's default is 128 KiB).
        trimmed = mallopt(M_TRIM_THRESHOLD, int(threshold)) == 1
        return bool(mallopt(M_MMAP_THRESHOLD, int(threshold)) == 1 and trimmed)
    except Exception:  # a start-up nicety must never stop the app
        return False


__all__ = ["MMAP_THRESHOLD", "is_glibc", "tune_malloc"]
