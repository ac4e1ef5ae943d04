"""Server-backed choices for a form's pickers: the query a system declares, run as a job.

:func:`list_choices` asks a system for the values of one field (behind the answer guard);
:func:`choices_job` wraps it as a plain ``run(ctx)`` callable whose outcome carries a
:class:`ChoiceList` payload (or a typed ``failure`` naming the field to fix); :class:`ChoiceQuery`
is what a form holds: the system, the connector settings and params *as given* (callables, so the
form's unsaved values are used) and :meth:`ChoiceQuery.spec` to build the job for the runner. Nothing
here touches Qt, and nothing is saved.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from almdesk.base.settings import ConnectorSettings
from almdesk.jobs.context import JobContext, JobOutcome
from almdesk.jobs.record import JobSpec
from almdesk.net.session import HttpFactory
from almdesk.services.actions import JobFn
from almdesk.services.wiring import Services
from almdesk.systems.answers import answers
from almdesk.systems.base import Capability, System


@dataclass(frozen=True)
class ChoiceList:
    """What the server offers for ``field``: (value, label) pairs, in the server's order."""

    field: str
    choices: list[tuple[str, str]]


def listable(system: System) -> frozenset[str]:
    """The fields ``system`` can list (none when it does not declare :attr:`Capability.CHOICES`)."""
    return system.listable if Capability.CHOICES in system.capabilities else frozenset()


def list_choices(system: System, field: str, connector: ConnectorSettings, params: Mapping[str, Any],
                 http: HttpFactory) -> ChoiceList:
    """The values of ``field``, deduplicated by value; UserFacingError (naming a field) when it cannot."""
    http.add_secrets(connector.secrets.values())
    with answers(system.label):
        found = system.choices(field, connector, params, http)
    unique = dict((str(v), str(label)) for v, label in found)
    return ChoiceList(field, list(unique.items()))


def choices_job(system: System, field: str, connector: ConnectorSettings, params: Mapping[str, Any],
                http: HttpFactory) -> JobFn:
    """``list_choices`` as a job: the outcome's payload is the :class:`ChoiceList`."""

    def run(ctx: JobContext) -> JobOutcome:
        http.cancel = ctx.cancel_event
        ctx.progress(0, 1, f"Listing {field}")
        result = list_choices(system, field, connector, params, http)
        ctx.progress(1, 1, "done")
        return JobOutcome(True, f"{len(result.choices)} value(s) listed for {field}.",
                          data={"choices": [list(pair) for pair in result.choices]}, payload=result)

    return run


class ChoiceQuery:
    """What a form's pickers list from: the system, the connector settings and the params as given.

    ``connector`` and ``params`` are called when a list is asked for, so the form's current (unsaved)
    values count; ``connector_id`` only labels the job row.
    """

    def __init__(self, services: Services, system: System, connector: Callable[[], ConnectorSettings],
                 params: Callable[[], Mapping[str, Any]], connector_id: int | None = None) -> None:
        self.services = services
        self.system = system
        self.connector = connector
        self.params = params
        self.connector_id = connector_id

    @property
    def listable(self) -> frozenset[str]:
        return listable(self.system)

    def spec(self, field: str) -> JobSpec:
        """The job listing ``field``; reading the settings may raise a ConfigError (shown under the field)."""
        connector = self.connector()
        params = dict(self.params())
        http = self.services.http_for(connector, job_hint="choices")
        return JobSpec("choices", f"List {field} from {connector.name}",
                       choices_job(self.system, field, connector, params, http), self.connector_id)

    @classmethod
    def stored(cls, services: Services, connector_id: int,
               params: Callable[[], Mapping[str, Any]] | None = None) -> ChoiceQuery:
        """For a stored connector (e.g. on the connection page, ``params`` being the form's values)."""
        settings = services.config.connector_settings(connector_id)
        system = services.registry.get(settings.system)
        return cls(services, system, lambda: services.config.connector_settings(connector_id),
                   params or (lambda: {}), connector_id)
