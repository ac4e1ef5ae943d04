"""``almdesk remote push``: write the plan to the server in the seed's shapes, item by item.

Connectors first (POST or PATCH with ``{"system": {"id": …}}``), then — planned again, so a new
connection names its connector's new server id — connections (``connector`` and ``project`` as
ids), then, only with ``delete``, the deletions (connections before connectors). Each item's local
mirror row is updated only after the server accepted it: a failure part-way (a 5xx, a refusal)
leaves what was pushed recorded and nothing of the failed item, and :class:`PushReport` says what
was done and what is left. A 400 with field errors becomes a ConfigError naming the local field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from almdesk.config import Config
from almdesk.errors import ConfigError, UserFacingError
from almdesk.remote import items as rows
from almdesk.remote.plan import Change, build_plan
from almdesk.remote.shapes import public
from almdesk.systems.sdelements.client import SdeClient
from almdesk.transfer.mapping import URL_KEYS

Progress = Callable[[int, int, str], None]


@dataclass
class PushReport:
    done: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)
    failed: str = ""
    error: UserFacingError | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"done": self.done, "left": self.left, "failed": self.failed,
                "error": self.error.message if self.error else "", "hint": self.error.hint if self.error else "",
                "field": self.error.field if self.error else None}

    def lines(self) -> list[str]:
        out = [f"  done: {d}" for d in self.done]
        if self.failed:
            out.append(f"  FAILED: {self.failed}")
        out += [f"  left: {left}" for left in self.left]
        out.append(f"{len(self.done)} pushed" + (f", stopped at {self.failed}; {len(self.left)} left (run "
                                                 "'almdesk remote plan' to see them)." if self.failed else "."))
        return out


def _label(change: Change) -> str:
    return f"{change.action} {change.kind} {change.name!r}"


def _local_field(change: Change, key: str, config: Config) -> str:
    """The local field a server param of ``change`` comes from (for a refusal naming a param)."""
    if key in change.secret_map:
        return change.secret_map[key]
    if change.kind == "connector" and key in URL_KEYS and change.local_id is not None:
        system = config.registry.get(config.connector(change.local_id).system)
        return next((f for f in system.sde_map.url_fields if f in {x.name for x in system.connector_fields}), key)
    if change.kind == "connector" and change.local_id is not None:
        system = config.registry.get(config.connector(change.local_id).system)
        names = {f.name for f in system.connector_fields}
        return next((n for n in system.sde_map.renames.get(key, ()) if n in names), key)
    return key


def refusal(config: Config, change: Change, body: Any, server: str) -> ConfigError:
    """A 400's field errors as one ConfigError naming the first local field."""
    pairs: list[tuple[str, str]] = []
    if isinstance(body, dict):
        for key, value in body.items():
            if isinstance(value, dict):
                pairs += [(str(k), " ".join(map(str, v)) if isinstance(v, list) else str(v)) for k, v in value.items()]
            else:
                pairs.append((str(key), " ".join(map(str, value)) if isinstance(value, list) else str(value)))
    if not pairs:
        pairs = [("params", str(body)[:200])]
    fld = _local_field(change, pairs[0][0], config)
    text = "; ".join(f"{k}: {v}" for k, v in pairs)
    return ConfigError(f"{server} refused the {change.kind} {change.name!r}: {text}",
                       f"Correct {fld!r} in the {change.kind}'s form, then plan and push again.", field=fld)


def send(config: Config, client: SdeClient, change: Change) -> dict[str, Any]:
    base = "connectors/alm/" if change.kind == "connector" else "connections/alm/"
    method, path = {"create": ("POST", base), "update": ("PATCH", f"{base}{change.server_id}/"),
                    "delete": ("DELETE", f"{base}{change.server_id}/")}[change.action]
    what = f"{'creating' if method == 'POST' else 'updating' if method == 'PATCH' else 'deleting'} the " \
           f"{change.kind} {change.name!r}"
    response = client.request(method, path, what=what, body=change.body if method != "DELETE" else None)
    if response.status_code == 400:
        try:
            detail: Any = response.json()
        except ValueError:
            detail = response.text
        raise refusal(config, change, detail, client.server)
    if response.status_code not in (200, 201, 204):
        raise client.error_for(response, what)
    if response.status_code == 204:
        return {}
    answer = client.json(response, what)
    return answer if isinstance(answer, dict) else {}


def record(config: Config, sid: int, change: Change, answer: dict[str, Any]) -> None:
    """The local mirror after the server accepted ``change`` (its own transaction)."""
    store = config.store
    if change.action == "delete":
        if change.row_id is not None:
            rows.forget(store, change.row_id)
        return
    server_id = int(answer.get("id") or change.server_id or 0) or None
    system = config.registry.get(config.connector(change.local_id).system) if change.kind == "connector" and \
        change.local_id else None
    if change.kind == "connector":
        rows.save(store, sid, "connector", server_id, row_id=change.row_id, name=change.name, system_id=change.system,
                  connector_id=change.local_id, params=public(change.body.get("params") or {}, system),
                  secret_keys=change.secret_map, read_only="",
                  server={"system": answer.get("system") or {"id": change.system},
                          "inaccessible": bool(answer.get("inaccessible"))})
    else:
        rows.save(store, sid, "connection", server_id, row_id=change.row_id, name=change.name,
                  system_id=change.system, connection_id=change.local_id, params=dict(change.body.get("params") or {}),
                  read_only="", server=rows.server_facts(answer))


def push(config: Config, source: str, client: SdeClient, *, only: set[str] | None = None, delete: bool = False,
         progress: Progress | None = None) -> PushReport:
    sid = rows.source_id(config.store, source)
    report = PushReport()

    def wanted(change: Change, kind: str, actions: tuple[str, ...]) -> bool:
        return change.kind == kind and change.action in actions and (not only or change.name in only)

    phases: list[tuple[str, tuple[str, ...]]] = [("connector", ("create", "update")),
                                                 ("connection", ("create", "update"))]
    if delete:
        phases += [("connection", ("delete",)), ("connector", ("delete",))]
    for number, (kind, actions) in enumerate(phases):
        plan = build_plan(config, source, client)
        todo = [c for c in plan.changes if wanted(c, kind, actions)]
        for i, change in enumerate(todo):
            if progress:
                progress(i, len(todo), _label(change))
            if change.kind == "connection" and change.body.get("connector") is None and change.action != "delete":
                report.failed = _label(change)
                report.error = ConfigError(f"The connection {change.name!r} has no connector on the server.",
                                           "Push its connector too (drop --only, or name the connector).",
                                           field="connector")
                report.left += [_label(c) for c in todo[i + 1:]]
                return report
            try:
                answer = send(config, client, change)
            except UserFacingError as exc:
                report.failed, report.error = _label(change), exc
                report.left += [_label(c) for c in todo[i + 1:]]
                later = build_plan_safe(config, source, client)
                report.left += [_label(c) for c in later if c.action in ("create", "update", "delete")
                                and _label(c) not in report.left and _label(c) != report.failed
                                and (delete or c.action != "delete") and (not only or c.name in only)
                                and (c.kind, c.action) in {(k, a) for k, acts in phases[number + 1:] for a in acts}]
                return report
            record(config, sid, change, answer)
            report.done.append(_label(change))
    return report


def build_plan_safe(config: Config, source: str, client: SdeClient) -> list[Change]:
    try:
        return build_plan(config, source, client).changes
    except UserFacingError:
        return []
