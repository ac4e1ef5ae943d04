"""Bench: the sync engine's requests and seconds for N new tasks, then a no-op re-sync, per system.

Run ``.venv/bin/python bench/sync.py [--n 5000] [--only jira,github] [--no-baseline]``. For every
system whose sandbox and sync adapter are installed (and the tests' toy ALM) it starts a fresh
loopback sandbox, imports N demo tasks (all TODO and all in scope), syncs them (create), syncs again
(no-op), and prints the requests the engine's HttpFactory counted and the wall-clock seconds. Next to
them, a naive baseline against another fresh sandbox: one create request per task with the vendor's
Python client (pycontribs ``jira``, ``PyGithub``, ``pyral``; plain ``requests`` for Octane and the
toy), then one lookup per task by fixed title (sdetools' way; PyGithub lists with its default 30 a
page, as the sandbox has no search API). Baseline requests are counted by the sandbox.

Targets (issues 7 and 9): create ≤ ceil(N/bulk)+5 requests where the system has bulk create, and ≥ 10×
faster than the naive baseline (plus :data:`CONTEXT_MARK`: the one request that makes a new sync context's
tag on its first sync, where the mark is an entity of its own); no-op re-sync ≤ ceil(N/page)+5 requests and under 1 s (the median of
``--repeat`` re-syncs; the sandbox answers in-process, so its own time is part of the figure). Jira runs
twice: Cloud (``jira``, pages of 100) and Data Center (``jira-dc``, pages of 1000; no baseline). GitHub
has neither bulk create nor more than 100 a page, and its client allows at most 500 writes an hour
(GitHub's secondary limit), so GitHub runs with ``--github-n`` (default 450) and unpaced writes (the
0.8 s pacing is for github.com). Not a test: it prints, it asserts nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import ipaddress
import math
import os
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from almdesk.base.records import ItemDraft  # noqa: E402
from almdesk.net.session import HttpFactory  # noqa: E402
from almdesk.sync import demo_tasks  # noqa: E402
from almdesk.systems.common import PHASES, VERIFICATIONS  # noqa: E402
from tests.sync.harness import SyncEnv, Target, make_registry, real_systems  # noqa: E402

NO_BULK = {"github"}  # one POST per issue, whatever the adapter's chunk size
SANDBOX_OPTIONS: dict[str, dict[str, Any]] = {
    "jira": {"rate_limit": None},  # the default token bucket would throttle the baseline's 10,000 calls
    "jira-dc": {"rate_limit": None, "mode": "dc"},
    "github": {"primary_limit": 10_000_000},
}
VARIANTS = {"jira-dc": "jira"}  # bench rows that are another sandbox mode of a system
NOOP_SECONDS = 1.0  # issue 9: a no-op re-sync of N tasks in under a second
SPEEDUP = 10  # issue 9: creating N at least 10 times faster than the naive baseline


@dataclass
class Figures:
    system: str
    n: int
    bulk: int
    page: int
    create_requests: int
    create_seconds: float
    noop_requests: int
    noop_seconds: float
    created: int
    base_create_requests: int | None = None
    base_create_seconds: float | None = None
    base_lookup_requests: int | None = None
    base_lookup_seconds: float | None = None
    note: str = ""


def bench_tasks(n: int) -> list[dict[str, Any]]:
    return [{**t, "status": "TODO"} for t in demo_tasks(n, seed=7)]


def scope_all() -> dict[str, Any]:
    return {"alm_phases": ",".join(PHASES), "sde_min_priority": 1, "sde_verification_filter": ",".join(VERIFICATIONS)}


def run_engine(name: str, n: int, tmp: Path, repeat: int = 3, latency: float = 0.0,
               server_cost: float = 0.0) -> Figures:
    registry = make_registry()
    target = Target.start(VARIANTS.get(name, name), registry, latency=latency, server_cost=server_cost,
                          **SANDBOX_OPTIONS.get(name, {}))
    try:
        env = SyncEnv(tmp, target, registry)
        project = env.project(bench_tasks(n))
        alias = env.connection(project, **scope_all())
        settings = env.settings(alias)
        http = HttpFactory(settings.connector.network)
        started = time.perf_counter()
        first = env.sync(alias, http=http)
        create_s = time.perf_counter() - started
        if first.state != "succeeded":
            print(f"  {name}: first sync {first.state}: {first.outcome.message}", file=sys.stderr)
        times: list[float] = []
        for _ in range(max(1, repeat)):  # the median of a few: one run on a busy 2-core box is noisy
            http2 = HttpFactory(settings.connector.network)
            started = time.perf_counter()
            second = env.sync(alias, http=http2)
            times.append(time.perf_counter() - started)
            if second.state != "succeeded" or second.outcome.counts.get("unchanged") != n:
                print(f"  {name}: re-sync {second.state}: {second.outcome.message}", file=sys.stderr)
        noop_s = statistics.median(times)
        adapter = env.adapter(alias)
        bulk, page = int(adapter.bulk_size), int(adapter.page_size)
        adapter.close()
        figures = Figures(name, n, bulk, page, http.requests, create_s, http2.requests, noop_s,
                          first.outcome.counts.get("created", 0))
        if latency or server_cost:
            counters = target.server.counters()
            figures.note += (f"sandbox slept {counters['waited_seconds']:.1f} s in all ({latency} s an answer, "
                             f"{server_cost} s for each of {counters['bulk_items']} bulk items). ")
        return figures
    finally:
        target.stop()


# --- naive baselines ---------------------------------------------------------------------------------

@contextlib.contextmanager
def baseline_target(name: str, tmp: Path, **kw: Any) -> Iterator[tuple[Target, SyncEnv, str]]:
    registry = make_registry()
    target = Target.start(name, registry, **SANDBOX_OPTIONS.get(name, {}), **kw)
    try:
        env = SyncEnv(tmp, target, registry)
        alias = env.connection(env.project([]), **scope_all())
        yield target, env, alias
    finally:
        target.stop()


def timed(app: Any, fn: Callable[[], None]) -> tuple[int, float]:
    before = app.requests
    started = time.perf_counter()
    fn()
    return app.requests - before, time.perf_counter() - started


def baseline_toyalm(n: int, tmp: Path) -> tuple[int, float, int, float, str]:
    with baseline_target("toyalm", tmp) as (target, env, alias):
        fmt = env.title_format(alias)
        s = requests.Session()
        s.headers["Authorization"] = f"Bearer {target.info['secrets']['token']}"
        base = target.server.url
        tasks = bench_tasks(n)

        def create() -> None:
            for t in tasks:
                s.post(f"{base}/api/items/bulk", json={"items": [
                    {"title": fmt.full(t["task_id"], t["title"]), "labels": ["almdesk"]}]}).raise_for_status()

        def lookup() -> None:
            for t in tasks:
                s.get(f"{base}/api/items", params={"label": "almdesk", "title_prefix": fmt.fixed(t["task_id"]),
                                                   "limit": 1}).raise_for_status()

        return (*timed(target.app, create), *timed(target.app, lookup), "requests, 1 item per call")


def baseline_octane(n: int, tmp: Path) -> tuple[int, float, int, float, str]:
    with baseline_target("octane", tmp) as (target, env, alias):
        fmt = env.title_format(alias)
        adapter = env.adapter(alias)  # only to resolve ids (parent, phase) for the entities
        collection = adapter.client.ws_url(adapter.workspace, adapter.target.collection)
        entities = [adapter._entity(ItemDraft(t["task_id"], fmt.full(t["task_id"], t["title"]), t["text"],
                                              t["priority"], [], False)) for t in bench_tasks(n)]
        adapter.close()
        s = requests.Session()
        s.post(f"{adapter.info.server}/authentication/sign_in",
               json={"client_id": target.info["params"]["client_id"],
                     "client_secret": target.info["secrets"]["client_secret"]}).raise_for_status()

        def create() -> None:
            for e in entities:
                s.post(collection, json={"data": [e]}).raise_for_status()

        def lookup() -> None:
            for t in bench_tasks(n):
                fixed = fmt.fixed(t["task_id"])
                s.get(collection, params={"query": f'"name EQ ^{fixed}*^"', "limit": 1, "fields": "name"})

        return (*timed(target.app, create), *timed(target.app, lookup), "requests, 1 entity per POST")


def baseline_jira(n: int, tmp: Path) -> tuple[int, float, int, float, str]:
    import jira as jira_lib

    with baseline_target("jira", tmp) as (target, env, alias):
        fmt = env.title_format(alias)
        info, params = target.info, env.settings(alias).params
        client = jira_lib.JIRA(info["url"], basic_auth=(info["params"]["user"], info["secrets"]["token"]),
                               options={"rest_api_version": "3"}, max_retries=1)
        key, label = params["alm_project"], params.get("alm_issue_label") or "SD-Elements"
        tasks = bench_tasks(n)

        def create() -> None:
            for t in tasks:
                client.create_issue(fields={"project": {"key": key}, "summary": fmt.full(t["task_id"], t["title"]),
                                            "issuetype": {"name": params.get("jira_issue_type") or "Bug"},
                                            "labels": [label]})

        def lookup() -> None:
            for t in tasks:
                fixed = fmt.fixed(t["task_id"]).replace("\\", "\\\\").replace('"', '\\"')
                found = client.enhanced_search_issues(f'project = {key} AND summary ~ "\\"{fixed}\\""', maxResults=1)
                assert found is not None, "pycontribs did not search (not seen as Cloud)"

        return (*timed(target.app, create), *timed(target.app, lookup), "pycontribs jira, create_issue")


def baseline_github(n: int, tmp: Path) -> tuple[int, float, int, float, str]:
    from github import Auth, Github

    with baseline_target("github", tmp) as (target, env, alias):
        fmt = env.title_format(alias)
        params = env.settings(alias).params
        gh = Github(base_url=f"{target.server.url}/api/v3", auth=Auth.Token(target.info["secrets"]["alm_api_token"]),
                    seconds_between_requests=0, seconds_between_writes=0, retry=None)
        repo = gh.get_repo(f"{params['github_repo_owner']}/{params['alm_project']}")
        label = params.get("github_issue_label") or "almdesk"
        tasks = bench_tasks(n)

        def create() -> None:
            for t in tasks:
                repo.create_issue(fmt.full(t["task_id"], t["title"]), body=t["text"], labels=[label])

        def lookup() -> None:
            for _ in repo.get_issues(state="all", labels=[repo.get_label(label)]):
                pass

        return (*timed(target.app, create), *timed(target.app, lookup),
                "PyGithub create_issue; lookup = its default 30-a-page listing")


def baseline_rally(n: int, tmp: Path) -> tuple[int, float, int, float, str]:
    import ssl

    import pyral

    cert, key = _self_signed(tmp)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    os.environ["REQUESTS_CA_BUNDLE"] = str(cert)
    with baseline_target("rally", tmp, ssl_context=context) as (target, env, alias):
        fmt = env.title_format(alias)
        params = env.settings(alias).params
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rally = pyral.Rally(target.server.url.split("://", 1)[1], apikey=target.info["secrets"]["alm_api_key"],
                                workspace=params["rally_workspace"], project=params["alm_project"])
        tasks = bench_tasks(n)
        card = params.get("rally_card_type") or "Story"

        def create() -> None:
            for t in tasks:
                rally.create(card, {"Name": fmt.full(t["task_id"], t["title"])})

        def lookup() -> None:
            for t in tasks:
                fixed = fmt.fixed(t["task_id"]).replace('"', '\\"')
                list(rally.get(card, fetch="FormattedID,Name,ScheduleState", query=f'Name contains "{fixed}"'))

        result = (*timed(target.app, create), *timed(target.app, lookup), "pyral create (it re-reads each)")
    del os.environ["REQUESTS_CA_BUNDLE"]
    return result


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp / "bench-cert.pem", tmp / "bench-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


BASELINES: dict[str, Callable[[int, Path], tuple[int, float, int, float, str]]] = {
    "toyalm": baseline_toyalm, "octane": baseline_octane, "jira": baseline_jira, "github": baseline_github,
    "rally": baseline_rally,
}


# --- report -----------------------------------------------------------------------------------------

# requests a context's first sync adds to make its mark: an Octane user tag and a Rally tag are entities
# (created once, then learnt from the listing); Jira and GitHub labels are plain strings on the items
CONTEXT_MARK = {"octane": 1, "rally": 1}


def target_line(f: Figures) -> str:
    create_cap = (math.ceil(f.n / f.bulk) + 5 + CONTEXT_MARK.get(f.system, 0)
                  if f.bulk > 1 and f.system not in NO_BULK else None)
    noop_cap = math.ceil(f.n / f.page) + 5
    parts = []
    if create_cap is not None:
        parts.append(f"create {'ok' if f.create_requests <= create_cap else 'MISSED'} (≤{create_cap})")
    else:
        parts.append("create: no bulk API")
    parts.append(f"no-op {'ok' if f.noop_requests <= noop_cap else 'MISSED'} (≤{noop_cap}), "
                 f"{'ok' if f.noop_seconds < NOOP_SECONDS else 'MISSED'} (<{NOOP_SECONDS:g} s)")
    if f.base_create_seconds is not None and f.create_seconds > 0:
        speedup = f.base_create_seconds / f.create_seconds
        parts.append(f"create ×{speedup:.0f} faster {'ok' if speedup >= SPEEDUP else 'MISSED'} (≥{SPEEDUP}×)")
    return ", ".join(parts)


def print_table(rows: list[Figures]) -> None:
    head = (f"{'system':8} {'N':>5} {'bulk':>4} {'page':>5} | {'create req':>10} {'s':>7} | {'no-op req':>9} {'s':>6} | "
            f"{'naive create req':>16} {'s':>7} | {'naive lookup req':>16} {'s':>7} | targets")
    print(head)
    print("-" * len(head))
    for f in rows:
        def opt(v: float | int | None, fmt: str) -> str:
            return format(v, fmt) if v is not None else "-"

        print(f"{f.system:8} {f.n:>5} {f.bulk:>4} {f.page:>5} | {f.create_requests:>10} {f.create_seconds:>7.2f} | "
              f"{f.noop_requests:>9} {f.noop_seconds:>6.2f} | {opt(f.base_create_requests, '>16')} "
              f"{opt(f.base_create_seconds, '>7.2f')} | {opt(f.base_lookup_requests, '>16')} "
              f"{opt(f.base_lookup_seconds, '>7.2f')} | {target_line(f)}")
    for f in rows:
        if f.note:
            print(f"  {f.system}: {f.note}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=5000, help="new tasks per system (default 5000)")
    parser.add_argument("--github-n", type=int, default=450, help="new tasks for GitHub (≤ 500 writes an hour)")
    parser.add_argument("--only", default="", help="comma-separated systems (default: all available + toyalm)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the naive baselines")
    parser.add_argument("--repeat", type=int, default=3, help="no-op re-syncs to time; the median is shown")
    parser.add_argument("--latency", type=float, default=0.0, metavar="SECONDS",
                        help="the sandboxes wait this long before every answer (a network's round trip)")
    parser.add_argument("--server-cost", type=float, default=0.0, metavar="SECONDS",
                        help="the sandboxes wait this long per item of a bulk write")
    args = parser.parse_args(argv)
    systems = ["toyalm", *real_systems()]
    systems[systems.index("jira") + 1:systems.index("jira") + 1] = ["jira-dc"] if "jira" in systems else []
    if args.only:
        systems = [s for s in systems if s in args.only.split(",")]
    rows = []
    for name in systems:
        n = min(args.n, args.github_n) if name == "github" else args.n
        print(f"… {name}: syncing {n} new tasks", file=sys.stderr, flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            figures = run_engine(name, n, Path(tmp), args.repeat, args.latency, args.server_cost)
        if figures.created != n:
            figures.note += f"created {figures.created} of {n}. "
        if name == "github":
            figures.note += "writes unpaced against the sandbox (github.com: 0.8 s a write, 500 an hour). "
        if not args.no_baseline and name in BASELINES:
            print(f"… {name}: naive baseline", file=sys.stderr, flush=True)
            with tempfile.TemporaryDirectory() as tmp:
                try:
                    cr, cs, lr, ls, how = BASELINES[name](n, Path(tmp))
                    figures.base_create_requests, figures.base_create_seconds = cr, cs
                    figures.base_lookup_requests, figures.base_lookup_seconds = lr, ls
                    figures.note += f"baseline: {how}."
                except Exception as exc:  # a bench prints what failed and goes on
                    figures.note += f"baseline failed: {type(exc).__name__}: {exc}"
        rows.append(figures)
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
