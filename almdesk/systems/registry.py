"""The systems almdesk knows, looked up by name.

Each system lives in its own package ``almdesk.systems.<name>`` exposing ``SYSTEM``. The registry
is a plain object built by the composition root (or a test), never a module global.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator

from almdesk.errors import ConfigError
from almdesk.systems.base import System

SYSTEM_NAMES = ("octane", "jira", "github", "rally", "sdelements")


def is_alm_target(system: object) -> bool:
    """True for a system items are synced into, gated and created in: every system but a task source
    (one whose ``capabilities`` name "task_source", e.g. SD Elements)."""
    return "task_source" not in tuple(getattr(system, "capabilities", ()))


class Registry:
    """Name → System. ``Registry.default()`` loads the four built-in systems that are installed."""

    def __init__(self, systems: Iterable[System]) -> None:
        self._systems = {s.name: s for s in systems}

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

    def alm_targets(self) -> list[str]:
        """Names of the systems that can be a connection's target (see :func:`is_alm_target`)."""
        return [name for name, system in self._systems.items() if is_alm_target(system)]

    def __iter__(self) -> Iterator[System]:
        return iter(self._systems.values())

    def __contains__(self, name: object) -> bool:
        return name in self._systems
