"""``almdesk remote test``: the server's own test of an item beside almdesk's stepwise test.

The server's ``connectors/testalm/`` and ``connections/testalm/`` answer only ``{"success": …}``;
:func:`server_test` sends the item as a push would (secrets included, never shown) and
:func:`verdict` says what the two answers together mean — in particular when they disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from almdesk.config import Config
from almdesk.errors import ConfigError
from almdesk.remote.plan import Plan, build_plan
from almdesk.remote.push import refusal
from almdesk.systems.sdelements.client import SdeClient


@dataclass
class ServerTest:
    kind: str  # connector | connection
    name: str
    success: bool
    detail: str
    inaccessible: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "success": self.success, "detail": self.detail,
                "inaccessible": self.inaccessible}


def server_test(config: Config, source: str, client: SdeClient, name: str, plan: Plan | None = None) -> ServerTest:
    """POST the item named ``name`` (a connector's name or a connection's alias) to the server's test."""
    plan = plan or build_plan(config, source, client)
    change = next((c for c in plan.changes if c.name == name and c.local_id is not None and c.body), None)
    if change is None:
        names = sorted({c.name for c in plan.changes if c.local_id is not None})
        raise ConfigError(f"{name!r} is neither a connector nor a connection almdesk keeps for this server.",
                          f"Use one of: {', '.join(names)}." if names else "Pull the server's items first.",
                          field="name")
    if change.kind == "connector":
        body: dict[str, Any] = {"name": change.name, "system": change.body["system"],
                                "params": dict(change.body["params"])}
        path, inaccessible = "connectors/testalm/", bool(change.body.get("inaccessible"))
    else:
        assert change.local_id is not None
        owner = config.connector(config.connection(change.local_id).connector).id
        parent = next((c for c in plan.changes if c.kind == "connector" and c.local_id == owner), None)
        params = {**(parent.body.get("params", {}) if parent else {}), **change.body["params"]}
        body = {"connector": change.body.get("connector"), "alias": change.name, "project": change.body.get("project"),
                "system": {"id": change.system}, "params": params}
        path = "connections/testalm/"
        inaccessible = bool(parent and parent.body.get("inaccessible"))
    response = client.request("POST", path, what=f"testing the {change.kind} {name!r} on the server", body=body)
    if response.status_code == 400:
        raise refusal(config, change, response.json() if response.content else {}, client.server)
    if response.status_code != 200:
        raise client.error_for(response, f"testing the {change.kind} {name!r} on the server")
    answer = client.json(response, "testing on the server")
    success = bool(answer.get("success")) if isinstance(answer, dict) else False
    detail = "the server reached the ALM" if success else "the server could not reach the ALM (it says only " \
        "success: false)"
    return ServerTest(change.kind, name, success, detail, inaccessible)


def verdict(server: ServerTest, desktop_ok: bool) -> str:
    """One sentence on the two results; it says so when they disagree."""
    if server.success and desktop_ok:
        return "Both agree: the server and this desktop reach the ALM."
    if not server.success and not desktop_ok:
        return "Both agree: neither the server nor this desktop reaches the ALM; see the desktop's failed step."
    if desktop_ok:
        why = " (the server marks it inaccessible)" if server.inaccessible else ""
        return (f"They disagree: this desktop reaches the ALM but the server cannot{why}. Syncs of it must run "
                "from the desktop; mark the connector 'inaccessible' on the server so it does not try.")
    return ("They disagree: the server reaches the ALM but this desktop cannot — check this machine's network, "
            "proxy and certificates (the desktop's failed step says which).")
