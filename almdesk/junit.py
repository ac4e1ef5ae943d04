"""JUnit XML reports of headless gates and syncs (``--junit FILE``), so CI systems show the result natively.

A gate is one testcase (a failure when the gate failed, an error when it could not run). A sync is one
testcase for the sync as a whole plus one failing testcase per failed item (task), with the item's
message. The file is written whole or not at all (a temporary file, then renamed). No Qt, no secrets:
only what the job printed.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from almdesk.jobs.context import JobEvent


@dataclass
class Case:
    """One ``<testcase>``; ``failure`` / ``error`` hold the message when it did not pass."""

    classname: str
    name: str
    seconds: float = 0.0
    failure: str = ""
    error: str = ""
    details: str = ""


@dataclass
class Suite:
    """One ``<testsuite>``."""

    name: str
    cases: list[Case] = field(default_factory=list)
    seconds: float = 0.0


def _part(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in text).strip("_") or "unnamed"


def outcome_case(classname: str, name: str, code: int, doc: dict[str, Any], seconds: float = 0.0) -> Case:
    """The testcase of one job from the CLI's result document: passed (exit 0), failed (1) or error
    (could not run: 2 bad configuration, 3 cannot reach or authenticate)."""
    message = str(doc.get("message") or doc.get("error") or "")
    details = "\n".join(x for x in (message, str(doc.get("hint") or "")) if x)
    case = Case(classname, name, seconds, details=details)
    if code == 1:
        case.failure = message or "failed"
    elif code != 0:
        case.error = message or f"exit code {code}"
    return case


def gate_suite(connection: str, title: str, code: int, doc: dict[str, Any], seconds: float = 0.0) -> Suite:
    """One testcase: the gate named ``title`` on ``connection``."""
    return Suite("almdesk gate", [outcome_case(f"almdesk.gate.{_part(connection)}", title, code, doc, seconds)],
                 seconds)


def sync_suite(connection: str, title: str, code: int, doc: dict[str, Any], events: Iterable[JobEvent],
               seconds: float = 0.0) -> Suite:
    """The sync as one testcase, then one failing testcase per failed item."""
    classname = f"almdesk.sync.{_part(connection)}"
    cases = [outcome_case(classname, title, code, doc, seconds)]
    for ev in events:
        if ev.status == "failed":
            text = f"{ev.item}: {ev.action}: {ev.message}" if ev.message else f"{ev.item}: {ev.action}"
            cases.append(Case(classname, f"{ev.item} ({ev.action})", failure=ev.message or "failed",
                              details="\n".join(x for x in (text, ev.url) if x)))
    return Suite("almdesk sync", cases, seconds)


def to_xml(suites: Sequence[Suite]) -> ET.Element:
    root = ET.Element("testsuites", name="almdesk")
    totals = {"tests": 0, "failures": 0, "errors": 0}
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    for suite in suites:
        failures = sum(1 for c in suite.cases if c.failure)
        errors = sum(1 for c in suite.cases if c.error)
        node = ET.SubElement(root, "testsuite", name=suite.name, tests=str(len(suite.cases)),
                             failures=str(failures), errors=str(errors), skipped="0",
                             time=f"{suite.seconds:.3f}", timestamp=stamp)
        totals["tests"] += len(suite.cases)
        totals["failures"] += failures
        totals["errors"] += errors
        for case in suite.cases:
            tc = ET.SubElement(node, "testcase", classname=case.classname, name=case.name,
                               time=f"{case.seconds:.3f}")
            if case.failure:
                ET.SubElement(tc, "failure", message=case.failure, type="failure").text = case.details
            elif case.error:
                ET.SubElement(tc, "error", message=case.error, type="error").text = case.details
            elif case.details:
                ET.SubElement(tc, "system-out").text = case.details
    for key, value in totals.items():
        root.set(key, str(value))
    return root


def write_junit(path: str | os.PathLike[str], suites: Sequence[Suite]) -> Path:
    """Write ``suites`` as a JUnit XML file at ``path`` (replacing it) and return the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tree = ET.ElementTree(to_xml(suites))
    ET.indent(tree)
    partial = target.with_name(target.name + ".part")
    tree.write(partial, encoding="utf-8", xml_declaration=True)
    partial.replace(target)
    return target
