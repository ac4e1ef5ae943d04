"""The systems almdesk knows, looked up by name, each behind the common answer guard.

Each system lives in its own package ``almdesk.systems.<name>`` exposing ``SYSTEM``; adding one is
its package, its sandbox package, its tests and its name in :data:`SYSTEM_NAMES`. The registry
checks each declaration (a capability needs its operation) and hands out every system as a
:class:`~almdesk.systems.answers.GuardedSystem`. It is a plain object built by the composition root
(or a test), never a module global.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator

from almdesk.errors import ConfigError
from almdesk.systems.answers import GuardedSystem
from almdesk.systems.base import ALM_TARGET, Capability, Declared, System

SYSTEM_NAMES = ("octane", "jira", "github", "rally", "sdelements")


def is_alm_target(system: System) -> bool:
    """True for a system items are synced into, gated and created in (it declares all of ALM_TARGET)."""
    return system.capabilities >= ALM_TARGET


# Declared delegates these to the system's steps/actions modules; the others it only refuses.
DELEGATED = frozenset({"test_steps", "create_defect", "gate", "choices"})
# The operation each capability needs the system to implement (beyond the declaration).
NEEDS: dict[Capability, str] = {
    Capability.TEST: "test_steps", Capability.SYNC: "sync_adapter", Capability.GATE: "gate",
    Capability.DEFECT: "create_defect", Capability.WORKSPACES: "workspaces",
    Capability.TASK_SOURCE: "project_test_steps", Capability.CHOICES: "choices",
}


def check_declaration(system: System) -> None:
    """Raise TypeError when ``system`` declares a capability without the operation it needs."""
    for cap in system.capabilities:
        op = NEEDS.get(cap)
        own = getattr(type(system), op, None) if op else None
        if op and (not callable(own) or (own is getattr(Declared, op, None) and op not in DELEGATED)):
            raise TypeError(f"system {system.name!r} declares {cap.value!r} but has no {op}()")
    if Capability.CHOICES in system.capabilities and not system.listable:
        raise TypeError(f"system {system.name!r} declares 'choices' but lists no field (no choices_module)")
    known = {f.name for f in (*system.connection_fields, *system.connector_fields)} | {"release"}
    for f in system.listable:
        if f not in known:
            raise TypeError(f"system {system.name!r}: listable field {f!r} is not one of its fields")
    for f in system.target.fields:
        if f not in {fld.name for fld in (*system.connection_fields, *system.connector_fields)}:
            raise TypeError(f"system {system.name!r}: target field {f!r} is not one of its fields")


class Registry:
    """Name → System. ``Registry.default()`` loads the built-in systems that are installed."""

    def __init__(self, systems: Iterable[System]) -> None:
        self._systems: dict[str, System] = {}
        for s in systems:
            check_declaration(s)
            self._systems[s.name] = s if isinstance(s, GuardedSystem) else GuardedSystem(s)

    @classmethod
    def default(cls, extra: Iterable[System] = ()) -> Registry:
        found: list[System] = []
        for name in SYSTEM_NAMES:
            module_name = f"almdesk.systems.{name}"
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as exc:
                if exc.name == module_name:
                    continue
                raise
            system = getattr(module, "SYSTEM", None)
            if system is not None:
                found.append(system)
        return cls([*found, *extra])

    def get(self, name: str) -> System:
        try:
            return self._systems[name]
        except KeyError:
            raise ConfigError(f"Unknown system {name!r}.",
                              f"Use one of: {', '.join(self._systems) or '(none installed)'}.",
                              field="system") from None

    def names(self) -> list[str]:
        return list(self._systems)

    def having(self, *capabilities: Capability) -> list[System]:
        """The systems that declare every one of ``capabilities``."""
        return [s for s in self._systems.values() if set(capabilities) <= s.capabilities]

    def alm_targets(self) -> list[str]:
        """Names of the systems a connection can sync into (they declare test, sync, gate and defect)."""
        return [s.name for s in self.having(*ALM_TARGET)]

    def __iter__(self) -> Iterator[System]:
        return iter(self._systems.values())

    def __contains__(self, name: object) -> bool:
        return name in self._systems
