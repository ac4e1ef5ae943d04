"""The CLI's commands for projects bound to SD Elements: ``project add NAME --source CONNECTOR
--sde-project ID [--include-unaccepted]``, ``project refresh NAME``, ``project test NAME`` and
``project pick --source CONNECTOR [--business-unit ID] [--application ID] [--search TEXT]`` (what the
GUI's picker lists: business units, then applications, then projects).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from almdesk.errors import EXIT_OK
from almdesk.jobs.record import JobSpec

if TYPE_CHECKING:
    from almdesk.services import Services

RunJob = Callable[[JobSpec], tuple[int, Any]]


def add_arguments(add: argparse.ArgumentParser, sub: Any) -> None:
    """The binding options of ``project add`` and the ``refresh``/``test``/``pick`` actions."""
    add.add_argument("--source", default="", help="an SD Elements connector: the project's tasks come from there")
    add.add_argument("--sde-project", type=int, default=None, help="the SD Elements project's id")
    add.add_argument("--include-unaccepted", action="store_true", help="also take tasks not accepted on the server")
    for name in ("refresh", "test"):
        sub.add_parser(name).add_argument("name")
    pick = sub.add_parser("pick")
    pick.add_argument("--source", required=True)
    pick.add_argument("--business-unit", type=int, default=None)
    pick.add_argument("--application", type=int, default=None)
    pick.add_argument("--search", default="")


def add_bound(services: Services, args: argparse.Namespace, say: Callable[[str], None], run_job: RunJob
              ) -> tuple[int, Any]:
    """``project add NAME --source C --sde-project ID``: check the server project, create and bind, refresh."""
    from almdesk.errors import ConfigError
    from almdesk.sources import bind_project, check_source
    from almdesk.systems.sdelements.client import SdeClient
    from almdesk.systems.sdelements.source import hierarchy, read_project

    if args.sde_project is None:
        raise ConfigError("--source needs --sde-project ID.", "Find the id with: almdesk project pick --source NAME.",
                          field="sde_project")
    check_source(services.store, services.registry, args.source, args.sde_project)
    connector = services.config.connector_settings(args.source)
    client = SdeClient(connector, services.http_for(connector))
    try:
        project = read_project(client, args.sde_project)
        bu, app = hierarchy(client, project)
    finally:
        client.close()
    pid = services.config.add_project(args.name, args.business_unit or bu, args.application or app)
    bind_project(services.store, services.registry, pid, args.source, args.sde_project,
                 include_unaccepted=args.include_unaccepted)
    say(f"Project {args.name!r} added, bound to {bu} / {app} / {project.get('name')} on {args.source}.")
    code, doc = run_job(services.refresh_spec(args.name))
    return code, {"id": pid, "business_unit": bu, "application": app, "sde_project": args.sde_project,
                  "refresh": doc}


def pick(services: Services, args: argparse.Namespace, say: Callable[[str], None]) -> tuple[int, Any]:
    from almdesk.systems.sdelements import source
    from almdesk.systems.sdelements.client import SdeClient

    connector = services.config.connector_settings(args.source)
    client = SdeClient(connector, services.http_for(connector))
    try:
        if args.application is not None or args.search:
            rows = source.projects(client, args.application, args.search)
            kind = "project"
        elif args.business_unit is not None:
            rows, kind = source.applications(client, args.business_unit), "application"
        else:
            rows, kind = source.business_units(client), "business unit"
    finally:
        client.close()
    for row in rows:
        say(f"{row['id']:>6}  {row['name']}")
    say(f"{len(rows)} {kind}(s).")
    return EXIT_OK, {"kind": kind, "items": rows}
