"""Widgets only draw (issue 18): nothing under ``almdesk/ui/`` imports SQLAlchemy or ``almdesk.models``,
opens a store session or builds a ``JobSpec`` itself; the queries and the job specs live in ``services``.

Read from the source with :mod:`ast` (imports anywhere in a module, also inside functions; ``JobSpec(``
calls by name or attribute; ``….session()`` calls).
"""

from __future__ import annotations

import ast
from pathlib import Path

import almdesk.ui

UI = Path(almdesk.ui.__file__).parent
FORBIDDEN_MODULES = ("sqlalchemy", "almdesk.models")


def _forbidden(name: str) -> bool:
    return any(name == m or name.startswith(m + ".") for m in FORBIDDEN_MODULES)


def offences(source: str) -> list[str]:
    """What in ``source`` (a module's text) breaks the rule, as ``line: what`` strings."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [f"{node.lineno}: import {a.name}" for a in node.names if _forbidden(a.name)]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if _forbidden(node.module):
                found.append(f"{node.lineno}: from {node.module} import …")
            elif node.module == "almdesk":
                found += [f"{node.lineno}: from almdesk import {a.name}" for a in node.names
                          if _forbidden(f"almdesk.{a.name}")]
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            if name == "JobSpec":
                found.append(f"{node.lineno}: JobSpec(…)")
            elif name == "session" and isinstance(func, ast.Attribute):
                found.append(f"{node.lineno}: ….session()")
    return found


def _modules() -> dict[str, str]:
    return {p.relative_to(UI).as_posix(): p.read_text(encoding="utf-8") for p in sorted(UI.rglob("*.py"))}


def test_ui_has_no_sql_and_builds_no_job_spec() -> None:
    bad = {name: hits for name, text in _modules().items() if (hits := offences(text))}
    assert not bad, f"SQL or a JobSpec built in almdesk/ui/ (move it into almdesk/services/): {bad}"


def test_the_check_sees_each_kind_of_offence() -> None:
    source = '''
import sqlalchemy
from sqlalchemy.orm import aliased
from almdesk.models import Task
from almdesk import models
from almdesk.jobs.record import JobSpec, JobResult
import almdesk.models.tables

def f(services):
    from sqlalchemy import select
    with services.store.session() as s:
        pass
    return JobSpec("k", "t", None), record.JobSpec("k", "t", None)
'''
    hits = [h.split(": ", 1)[1] for h in offences(source)]
    assert sorted(hits) == sorted(["import sqlalchemy", "from sqlalchemy.orm import …", "from almdesk.models import …",
                                   "from almdesk import models", "import almdesk.models.tables",
                                   "from sqlalchemy import …", "….session()", "JobSpec(…)", "JobSpec(…)"])
    # a type-only use of JobSpec, the services and the core's own readers are fine
    assert offences("from almdesk.jobs.record import JobSpec\nx: JobSpec\nfrom almdesk.services.queries import "
                    "event_page\nfrom almdesk.jobs.history import get_job\n") == []
