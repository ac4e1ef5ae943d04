"""Hostile answers: for each case, the peak RSS growth of a fresh process and its time to fail.

Each case runs in its own child process (so peaks do not mix) against the raw loopback servers of
tests/net/test_answer_caps.py, with almdesk's default limits (64 MiB per answer, 300 s per request)
unless the case says otherwise. Prints one line per case; not a test.

    .venv/bin/python bench/hostile.py
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, {root!r})
from almdesk.base.settings import NetworkSettings
from almdesk.net.caps import AnswerTooLarge
from almdesk.net.session import HttpFactory, send
from tests.net import test_answer_caps as t
case = {case!r}
answers = {{"endless chunked": t.endless_chunks, "1 GiB Content-Length": t.huge_length,
            "no length, until close": t.until_close, "gzip bomb (1 GiB)": None, "deflate bomb (1 GiB)": None,
            "drip 1 byte / 10 ms": t.drip}}
answer = answers[case]
if answer is None:
    data = t._gzip_bomb() if case.startswith("gzip") else t._deflate_bomb()
    answer = t.compressed("gzip" if case.startswith("gzip") else "deflate", data)
net = NetworkSettings(request_deadline=5) if case.startswith("drip") else NetworkSettings()
if case.startswith("no length"):
    net = NetworkSettings(max_answer_mb=8)
server = t.Hostile(answer)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.monotonic()
try:
    send(HttpFactory(net, retries=0).session(), "GET", server.url + "/x")
    outcome = "read whole"
except AnswerTooLarge as exc:
    outcome = exc.message
took = time.monotonic() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"case": case, "rss_growth_mb": (peak - before) / 1024, "seconds": took, "outcome": outcome}}))
"""

CASES = ["endless chunked", "1 GiB Content-Length", "no length, until close", "gzip bomb (1 GiB)",
         "deflate bomb (1 GiB)", "drip 1 byte / 10 ms"]


def main() -> None:
    print(f"{'case':26} {'peak RSS growth':>16} {'time to fail':>13}  message")
    for case in CASES:
        out = subprocess.run([sys.executable, "-c", CHILD.format(root=str(ROOT), case=case)], capture_output=True,
                             text=True, timeout=600, check=True)
        row = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{row['case']:26} {row['rss_growth_mb']:>13.1f} MB {row['seconds']:>11.2f} s  {row['outcome'][:90]}")


if __name__ == "__main__":
    main()
