"""Demo mode wires SD Elements as a task source: its connector and a project bound to the seeded
server project, refreshed, and no connection; started again, the same setup is re-pointed."""

from __future__ import annotations

from almdesk.demo import Demo
from almdesk.services import Services
from almdesk.sources import source_of


def test_demo_binds_the_seeded_server_project(services: Services) -> None:
    demo = Demo(services)
    try:
        summary = demo.start()
    finally:
        demo.stop()
    sde = summary["sdelements"]
    assert sde["connector"] == "Demo SD Elements" and sde["project"] == "Demo Project (SD Elements)"
    source = source_of(services.store, sde["project"])
    assert source is not None and source.server_project == 1 and source.last_refresh is not None
    row = next(p for p in services.config.projects() if p["name"] == sde["project"])
    assert row["tasks"] >= 60 and row["business_unit"] == "General"
    assert all(c.system != "sdelements" for c in services.config.connections())
    again = Demo(services)
    try:
        assert again.start()["sdelements"]["project"] == sde["project"]
    finally:
        again.stop()
    assert len([p for p in services.config.projects() if p["name"] == sde["project"]]) == 1
