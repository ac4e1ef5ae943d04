#!/usr/bin/env python3
"""A small mutation-testing runner for almdesk's core modules (no third-party mutation tool).

For each target module in :data:`TARGETS` it parses the source with :mod:`ast`, makes one mutant at a
time (see :func:`mutations` for the operators), writes the mutant over the module file, runs only the
mapped fast test files (``pytest -x -q -p no:cacheprovider``) under a timeout and classifies the mutant
as *killed* (the tests failed), *survived* (they passed) or *timeout*. The original file is written back
in a ``finally`` (also on Ctrl-C), with its original modification time.

To keep runs cheap on a shared machine the runner is a fork server: it imports the mapped test modules
(and so almdesk and the libraries) once, then forks a child per mutant that runs the mutated source in
the loaded module, rebinds every name other loaded modules imported from it, and runs pytest
in-process (subprocesses the tests start read the mutated file). When a loaded class derives from a
class of the target or holds an instance of one made at import, or with ``--fresh``, the child drops almdesk from ``sys.modules`` and imports it
from the mutated file instead. ``--no-fork`` runs a ``python -m pytest`` subprocess per mutant.

Run it inside the keyring session (the SecretStore tests use the real keyring), niced::

    scripts/with-keyring nice -n 10 .venv/bin/python scripts/mutate.py [MODULE ...] [--json FILE]

MODULE is a key of :data:`TARGETS` (a path such as ``almdesk/net/redact.py``); none means all.
``--skip-tests TEXT`` leaves out mapped test files whose path contains TEXT (a baseline). The exit
status is 0 when no mutant survived, 1 otherwise, 2 when a module's tests fail without any mutant.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Target:
    """A module to mutate, the pytest arguments that test it, and optionally the top-level names to mutate.

    ``only`` restricts mutation to the top-level functions, classes and assignments of those names
    (for modules of which only a part is a target). Move a module by changing its key; the names stay.
    ``fresh`` makes every mutant's child import almdesk from the files instead of patching the module.
    """

    tests: tuple[str, ...]
    only: tuple[str, ...] = ()
    fresh: bool = False  # import almdesk afresh per mutant (a module nearly everything imports)


# Module -> the fast tests that cover it (the mutants_* files first: they kill most mutants in a second).
# Edit here when modules move; a test file that does not exist is skipped.
TARGETS: dict[str, Target] = {
    "almdesk/sync/scope.py": Target(("tests/sync/test_mutants_sync.py", "tests/sync/test_rules.py",
                                     "-k", "toyalm or mutants")),
    "almdesk/sync/titles.py": Target(("tests/sync/test_mutants_sync.py", "tests/sync/test_titles_context.py",
                                      "tests/sync/test_schedule_titles.py")),
    "almdesk/sync/plan.py": Target(("tests/sync/test_mutants_sync.py", "tests/sync/test_rules.py",
                                    "-k", "toyalm or mutants")),
    "almdesk/systems/octane/location.py": Target(("tests/octane/test_mutants_octane.py",
                                                  "tests/octane/test_location.py")),
    "almdesk/base/records.py": Target(("tests/core/test_mutants_core.py", "tests/core/test_fields.py",
                                       "tests/octane/test_gate.py"),
                                      only=("OPERATORS", "XLR_OPERATORS", "normalize_operator", "GateResult"),
                                      fresh=True),
    "almdesk/systems/rally/actions.py": Target(("tests/rally/test_mutants_rally.py", "tests/rally/test_actions.py",
                                                "-k", "gate or mutants"), only=("gate_query",)),
    "almdesk/secrets.py": Target(("tests/core/test_mutants_core.py", "tests/core/test_secrets.py")),
    "almdesk/net/redact.py": Target(("tests/net/test_mutants_net.py", "tests/admin/test_trace_bundle.py")),
    "almdesk/systems/jira/jql.py": Target(("tests/jira/test_mutants_jira.py", "tests/jira/test_jira_jql.py")),
    "almdesk/systems/octane/query.py": Target(("tests/octane/test_mutants_octane.py",
                                               "tests/octane/test_query.py")),
    "almdesk/systems/rally/query.py": Target(("tests/rally/test_mutants_rally.py",
                                              "tests/rally/test_query_property.py",
                                              "tests/rally/test_sandbox_query.py")),
}

# ---------------------------------------------------------------------------------------------------
# Mutation operators

_FLIPS: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq,
    ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is,
}
_MATCHERS = ("match", "search", "fullmatch")
_ALTERNATION = re.compile(r"^(\(\??:?)([^()]*)(\))$")


@dataclass(frozen=True)
class Mutant:
    """One mutation: the node's position in :func:`ast.walk` order, an operator name and its variant."""

    index: int
    operator: str
    variant: int
    line: int
    description: str


Apply = Callable[[ast.AST], ast.AST | None]


def _const(value: str | bool | int) -> Apply:
    """An apply function replacing the node with the constant ``value``."""
    return lambda _node: ast.Constant(value)


def _is_docstring(parent: ast.AST | None, node: ast.AST) -> bool:
    return (isinstance(parent, ast.Expr) and isinstance(node, ast.Constant) and isinstance(node.value, str))


def _variants(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> list[tuple[str, str, Apply]]:
    """The mutations of one node as (operator, description, apply); apply returns the replacement node."""
    out: list[tuple[str, str, Apply]] = []
    parent = parents.get(node)
    if isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            flipped = _FLIPS.get(type(op))
            if flipped is not None:
                def flip(n: ast.AST, i: int = i, flipped: type[ast.cmpop] = flipped) -> ast.AST:
                    assert isinstance(n, ast.Compare)
                    n.ops[i] = flipped()
                    return n
                out.append(("compare", f"{type(op).__name__} -> {flipped.__name__}", flip))
    elif isinstance(node, ast.BoolOp):
        other: type[ast.boolop] = ast.Or if isinstance(node.op, ast.And) else ast.And

        def swap(n: ast.AST, other: type[ast.boolop] = other) -> ast.AST:
            assert isinstance(n, ast.BoolOp)
            n.op = other()
            return n
        out.append(("boolop", f"{type(node.op).__name__} -> {other.__name__}", swap))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        out.append(("not", "not removed", lambda n: n.operand if isinstance(n, ast.UnaryOp) else n))
    elif isinstance(node, ast.Constant) and not _is_docstring(parent, node) \
            and not isinstance(parent, ast.JoinedStr | ast.FormattedValue):
        value = node.value
        if isinstance(value, bool):
            out.append(("bool", f"{value} -> {not value}", _const(not value)))
        elif isinstance(value, int):
            for new in dict.fromkeys((value + 1, value - 1, 0)):
                if new != value:
                    out.append(("int", f"{value} -> {new}", _const(new)))
        elif isinstance(value, str) and value:
            out.append(("string", "emptied", lambda n: ast.Constant("")))
            if isinstance(parent, ast.Call) and isinstance(parent.func, ast.Name) \
                    and parent.func.id in ("set", "frozenset") and len(value) <= 40:
                for ch in dict.fromkeys(value):
                    out.append(("charset", f"{ch!r} dropped",
                                _const(value.replace(ch, ""))))
            if isinstance(parent, ast.Call) and isinstance(parent.func, ast.Attribute) \
                    and parent.func.attr == "compile" and parent.args and parent.args[0] is node:
                m = _ALTERNATION.match(value)
                alternatives = m.group(2).split("|") if m else []
                for k, alt in enumerate(alternatives if len(alternatives) > 1 else []):
                    rest = "|".join(a for j, a in enumerate(alternatives) if j != k)
                    assert m is not None
                    new_re = m.group(1) + rest + m.group(3)
                    out.append(("regex-alt", f"{alt!r} dropped", _const(new_re)))
    elif isinstance(node, ast.JoinedStr):
        out.append(("string", "f-string emptied", lambda n: ast.Constant("")))
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _MATCHERS:
        for new_attr in _MATCHERS:
            if new_attr != node.func.attr:
                def rename(n: ast.AST, new_attr: str = new_attr) -> ast.AST:
                    assert isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                    n.func.attr = new_attr
                    return n
                out.append(("regex", f"{node.func.attr} -> {new_attr}", rename))
    elif isinstance(node, ast.Return) and node.value is not None \
            and not (isinstance(node.value, ast.Constant) and node.value.value is None):
        out.append(("return", "return None", lambda n: ast.Return(ast.Constant(None))))
    elif isinstance(node, ast.Slice):
        for part in ("lower", "upper"):
            bound = getattr(node, part)
            if bound is not None and not isinstance(bound, ast.Constant):
                shifts: tuple[tuple[type[ast.operator], str], ...] = ((ast.Add, "+"), (ast.Sub, "-"))
                for arith, sign in shifts:
                    def shift(n: ast.AST, part: str = part, arith: type[ast.operator] = arith) -> ast.AST:
                        setattr(n, part, ast.BinOp(getattr(n, part), arith(), ast.Constant(1)))
                        return n
                    out.append(("slice", f"{part} {sign} 1", shift))
    if _removable(node, parent):
        out.append(("statement", f"{type(node).__name__} removed", lambda n: ast.Pass()))
    return out


def _removable(node: ast.AST, parent: ast.AST | None) -> bool:
    """A statement inside a function body whose removal keeps the code valid and is worth a test."""
    if not isinstance(parent, ast.FunctionDef | ast.If | ast.For | ast.While | ast.Try | ast.With):
        return False
    if isinstance(node, ast.Expr):
        return not _is_docstring(node, node.value)
    if isinstance(node, ast.Assign):
        return all(isinstance(t, ast.Attribute | ast.Subscript) for t in node.targets)
    if isinstance(node, ast.AugAssign):
        return isinstance(node.target, ast.Attribute | ast.Subscript)
    return isinstance(node, ast.Raise | ast.If | ast.Continue | ast.Break)


def _skipped(node: ast.AST) -> bool:
    """Subtrees never mutated: imports, annotations, and messages of raised errors (wording, not logic)."""
    return isinstance(node, ast.Import | ast.ImportFrom | ast.arg) or (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr
        in ("debug", "info", "warning", "error", "exception"))


def _walk(tree: ast.Module) -> Iterator[tuple[int, ast.AST, dict[ast.AST, ast.AST]]]:
    """(index, node, parents) in a stable order over the mutable part of the module."""
    parents: dict[ast.AST, ast.AST] = {}
    for p in ast.walk(tree):
        for c in ast.iter_child_nodes(p):
            parents[c] = p
    skip: set[ast.AST] = set()
    for node in ast.walk(tree):
        if node in skip:
            continue
        if _skipped(node):
            skip.update(ast.walk(node))
            continue
        if isinstance(node, ast.AnnAssign):
            skip.update(ast.walk(node.annotation))
        if isinstance(node, ast.FunctionDef):
            skip.update(ast.walk(node.returns) if node.returns else ())
        if isinstance(node, ast.Raise) and node.exc is not None:
            for sub in ast.walk(node.exc):
                if isinstance(sub, ast.Constant | ast.JoinedStr):
                    skip.update(ast.walk(sub))
        yield 0, node, parents


def _selected(tree: ast.Module, only: tuple[str, ...]) -> set[ast.AST] | None:
    """The nodes inside the top-level definitions named in ``only`` (None: the whole module)."""
    if not only:
        return None
    chosen: set[ast.AST] = set()
    for stmt in tree.body:
        names: list[str] = []
        if isinstance(stmt, ast.FunctionDef | ast.ClassDef):
            names = [stmt.name]
        elif isinstance(stmt, ast.Assign):
            names = [t.id for t in stmt.targets if isinstance(t, ast.Name)]
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            names = [stmt.target.id]
        if any(n in only for n in names):
            chosen.update(ast.walk(stmt))
    return chosen


def mutations(source: str, only: tuple[str, ...] = ()) -> list[Mutant]:
    """Every mutant of ``source``. Operators: comparison flips (``<``/``<=``, ``==``/``!=``, ``in``/``not in``,
    ``is``/``is not``), ``and``/``or``, ``not`` removed, integers ±1 and 0, ``True``/``False``, strings
    emptied, a character dropped from a ``set("…")``, an alternative dropped from a compiled ``(a|b)``
    regex, ``match``/``search``/``fullmatch`` swapped, ``return X`` -> ``return None``, slice bounds ±1,
    and a statement removed from a function body (calls, attribute/item assignments, ``raise``, ``if``)."""
    tree = ast.parse(source)
    chosen = _selected(tree, only)
    out: list[Mutant] = []
    for index, node, parents in _indexed(tree):
        if chosen is not None and node not in chosen:
            continue
        for variant, (operator, description, _) in enumerate(_variants(node, parents)):
            out.append(Mutant(index, operator, variant, getattr(node, "lineno", 0), description))
    return out


def _indexed(tree: ast.Module) -> Iterator[tuple[int, ast.AST, dict[ast.AST, ast.AST]]]:
    for index, (_, node, parents) in enumerate(_walk(tree)):
        yield index, node, parents


def apply(source: str, mutant: Mutant) -> tuple[str, str]:
    """The mutated module source and the mutated statement's first line (``(removed)`` for a removal)."""
    tree = ast.parse(source)
    for index, node, parents in _indexed(tree):
        if index != mutant.index:
            continue
        _, _, fn = _variants(node, parents)[mutant.variant]
        stmt = node
        while not isinstance(stmt, ast.stmt) and stmt in parents:
            stmt = parents[stmt]
        replacement = fn(node)
        if replacement is not None and replacement is not node:
            _replace(parents[node], node, replacement)
        ast.fix_missing_locations(tree)
        shown = "(removed)" if isinstance(replacement, ast.Pass) and node is stmt else \
            ast.unparse(stmt).splitlines()[0]
        return ast.unparse(tree) + "\n", shown
    raise LookupError(f"no node {mutant.index}")


def _replace(parent: ast.AST, old: ast.AST, new: ast.AST) -> None:
    for name, value in ast.iter_fields(parent):
        if value is old:
            setattr(parent, name, new)
            return
        if isinstance(value, list):
            for i, item in enumerate(value):
                if item is old:
                    value[i] = new
                    return
    raise LookupError("node not found in its parent")


# ---------------------------------------------------------------------------------------------------
# Running

@dataclass
class Outcome:
    line: int
    operator: str
    description: str
    original: str
    mutated: str
    status: str  # killed | survived | timeout | error
    seconds: float


@dataclass
class ModuleReport:
    module: str
    tests: list[str]
    mutants: int = 0
    killed: int = 0
    survived: int = 0
    timeout: int = 0
    seconds: float = 0.0
    baseline_seconds: float = 0.0
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def score(self) -> float:
        """Killed (timeouts count as killed) over all mutants, in percent."""
        return 100.0 * (self.killed + self.timeout) / self.mutants if self.mutants else 100.0


def _module_name(path: str) -> str:
    return path.removesuffix(".py").replace("/", ".")


def _preload(test_files: list[str]) -> None:
    """Import the mapped test modules (and with them almdesk and the libraries) once, in the fork server."""
    import pytest  # noqa: F401  (the children run pytest.main)

    for test_file in test_files:
        __import__(_module_name(test_file))


def _ours(name: str) -> bool:
    return name.split(".")[0] in ("almdesk", "tests")


def _unpatchable(module: str) -> str:
    """Why patching ``module`` in place would be unsound ('' when it is sound).

    Patching rebinds names; it cannot reach a loaded class derived from one of the module's classes,
    nor an instance of one made at import time (a module-level ``FMT = TitleFormat.parse(...)``)."""
    mod = sys.modules.get(module)
    if mod is None:
        return "not loaded"
    own = {id(v) for v in vars(mod).values() if isinstance(v, type) and v.__module__ == module}
    for name, other in list(sys.modules.items()):
        if other is None or name == module or not _ours(name):
            continue
        for key, value in list(vars(other).items()):
            if isinstance(value, type) and any(id(base) in own for base in value.__mro__[1:]):
                return f"{name}.{key} derives from it"
            if id(type(value)) in own:
                return f"{name}.{key} is an instance made at import"
    return ""


def _patch(module: str, source: str) -> None:
    """Run the mutated ``source`` in the loaded module and rebind every name other modules imported from it."""
    mod = sys.modules[module]
    before = dict(vars(mod))
    exec(compile(source, str(mod.__file__), "exec"), vars(mod))
    changed = {id(old): (old, vars(mod)[name]) for name, old in before.items()
               if not name.startswith("__") and name in vars(mod) and vars(mod)[name] is not old}
    for name, other in list(sys.modules.items()):
        if other is None or other is mod or not _ours(name):
            continue
        namespace = vars(other)
        for key, value in list(namespace.items()):
            hit = changed.get(id(value))
            if hit is not None and hit[0] is value:
                namespace[key] = hit[1]


def _child(args: list[str], module: str, source: str | None) -> int:
    """In the forked child: load the mutant (patched in, or almdesk imported afresh), run pytest."""
    os.setpgid(0, 0)  # own process group, so a timeout kills the tests' subprocesses too
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    sys.dont_write_bytecode = True
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    if source is None:
        for name in [n for n in sys.modules if _ours(n)]:
            del sys.modules[name]
    elif source:
        _patch(module, source)
    import pytest

    return int(pytest.main(args))


def _run_tests(tests: tuple[str, ...], timeout: float, fork: bool, module: str = "",
               source: str | None = "") -> tuple[str, float]:
    """('passed' | 'failed' | 'timeout', seconds) for one run of the mapped tests.

    With ``fork``, ``source`` is the mutant to patch into ``module`` ('' for none, None to re-import
    almdesk from the files instead)."""
    args = ["-x", "-q", "-p", "no:cacheprovider", "--no-header", *tests]
    start = time.monotonic()
    if not fork:
        try:
            done = subprocess.run([sys.executable, "-m", "pytest", *args], cwd=ROOT, timeout=timeout,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False,
                                  env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}, start_new_session=True)
        except subprocess.TimeoutExpired:
            return "timeout", time.monotonic() - start
        return ("passed" if done.returncode == 0 else "failed"), time.monotonic() - start
    pid = os.fork()
    if pid == 0:
        code = 3
        try:
            code = _child(args, _module_name(module), source)
        finally:
            os._exit(code)
    deadline = start + timeout
    while True:
        waited, status = os.waitpid(pid, os.WNOHANG)
        if waited:
            code = os.waitstatus_to_exitcode(status)
            return ("passed" if code == 0 else "failed"), time.monotonic() - start
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            return "timeout", time.monotonic() - start
        time.sleep(0.02)


@contextlib.contextmanager
def _restoring(path: Path) -> Iterator[str]:
    """Yield the original source; whatever happens (also Ctrl-C), write it back with its mtime."""
    original = path.read_bytes()
    stat = path.stat()
    try:
        yield original.decode()
    finally:
        path.write_bytes(original)
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def _existing(tests: tuple[str, ...]) -> tuple[str, ...]:
    """The pytest arguments without test files that do not exist (yet)."""
    return tuple(t for t in tests if not t.endswith(".py") or (ROOT / t).exists())


def run_module(module: str, target: Target, *, fork: bool, fresh: bool, log: Callable[[str], None],
               skip: tuple[str, ...] = ()) -> ModuleReport:
    path = ROOT / module
    tests = tuple(t for t in _existing(target.tests) if not any(part in t for part in skip))
    report = ModuleReport(module, list(tests))
    why = "--fresh" if fresh else "fresh=True" if target.fresh else _unpatchable(_module_name(module)) if fork else ""
    fresh = bool(why)
    with _restoring(path) as source:
        status, baseline = _run_tests(tests, 600, fork, module, None if fresh else "")
        if status != "passed":
            raise SystemExit(f"{module}: the mapped tests fail without any mutant ({' '.join(tests)})")
        report.baseline_seconds = round(baseline, 2)
        timeout = max(15.0, 4 * baseline)
        lines = source.splitlines()
        muts = mutations(source, target.only)
        log(f"{module}: {len(muts)} mutants, baseline {baseline:.1f} s{f' (fresh imports: {why})' if fresh else ''}")
        started = time.monotonic()
        for n, mutant in enumerate(muts, 1):
            mutated_source, shown = apply(source, mutant)
            path.write_text(mutated_source)
            status, seconds = _run_tests(tests, timeout, fork, module, None if fresh else mutated_source)
            kind = {"passed": "survived", "failed": "killed", "timeout": "timeout"}[status]
            original = lines[mutant.line - 1].strip() if 0 < mutant.line <= len(lines) else ""
            report.outcomes.append(Outcome(mutant.line, mutant.operator, mutant.description, original, shown,
                                           kind, round(seconds, 2)))
            setattr(report, kind, getattr(report, kind) + 1)
            if kind == "survived":
                log(f"  [{n}/{len(muts)}] SURVIVED line {mutant.line} {mutant.operator} ({mutant.description}): "
                    f"{_short(shown)}")
        report.mutants = len(muts)
        report.seconds = round(time.monotonic() - started, 1)
    return report


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _short(text: str, width: int = 150) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("modules", nargs="*", help="target modules (keys of TARGETS); none: all")
    parser.add_argument("--json", metavar="FILE", help="write a machine-readable report to FILE ('-': stdout)")
    parser.add_argument("--no-fork", action="store_true", help="run each mutant's tests in a fresh subprocess")
    parser.add_argument("--fresh", action="store_true",
                        help="fork, but import almdesk afresh from the mutated file instead of patching it in")
    parser.add_argument("--skip-tests", metavar="TEXT", action="append", default=[],
                        help="leave out mapped test files whose path contains TEXT (e.g. 'mutants' for a baseline)")
    parser.add_argument("--list", action="store_true", help="list the mutants without running anything")
    args = parser.parse_args(argv)
    modules = args.modules or list(TARGETS)
    unknown = [m for m in modules if m not in TARGETS]
    if unknown:
        parser.error(f"not a target: {', '.join(unknown)} (see TARGETS in scripts/mutate.py)")
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    # Ctrl-C or a TERM (also when started in the background, where SIGINT is ignored) stops the run
    # through KeyboardInterrupt, so the mutated file is written back
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)

    def log(text: str) -> None:
        print(text, file=sys.stderr if args.json == "-" else sys.stdout, flush=True)

    if args.list:
        for module in modules:
            for m in mutations((ROOT / module).read_text(), TARGETS[module].only):
                log(f"{module}:{m.line} {m.operator} {m.description}")
        return 0
    if not args.no_fork:
        _preload([t for m in modules for t in _existing(TARGETS[m].tests)
                  if t.endswith(".py") and not any(part in t for part in args.skip_tests)])
    try:
        reports = [run_module(m, TARGETS[m], fork=not args.no_fork, fresh=args.fresh, log=log,
                              skip=tuple(args.skip_tests)) for m in modules]
    except KeyboardInterrupt:
        log("interrupted; the module file is restored")
        return 130
    log(f"\n{'module':40} {'mutants':>7} {'killed':>6} {'surv.':>5} {'t/o':>4} {'score':>6} {'time':>6}")
    for r in reports:
        log(f"{r.module:40} {r.mutants:7} {r.killed:6} {r.survived:5} {r.timeout:4} {r.score:5.1f}% {r.seconds:5.0f}s")
    total = sum(r.mutants for r in reports)
    caught = sum(r.killed + r.timeout for r in reports)
    log(f"{'total':40} {total:7} {caught:>6} {total - caught:5} {'':4} "
        f"{(100.0 * caught / total if total else 100.0):5.1f}%")
    for r in reports:
        for o in r.outcomes:
            if o.status == "survived":
                log(f"survivor {r.module}:{o.line} {o.operator} ({o.description})\n    - {_short(o.original)}\n"
                    f"    + {_short(o.mutated)}")
    if args.json:
        data = [{**asdict(r), "score": round(r.score, 1)} for r in reports]
        text = json.dumps(data, indent=1, ensure_ascii=False)
        if args.json == "-":
            print(text)
        else:
            Path(args.json).write_text(text + "\n")
    return 0 if all(r.survived == 0 for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
