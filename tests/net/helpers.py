"""Running the network steps the way Test Connection does: in order, stopping at the first failure."""

from __future__ import annotations

from dataclasses import dataclass, field

from almdesk.base.settings import NetworkSettings
from almdesk.errors import UserFacingError
from almdesk.net.diagnose import network_steps


@dataclass
class Outcome:
    details: dict[str, str] = field(default_factory=dict)
    failed: str = ""  # key of the failed step
    error: UserFacingError | None = None

    @property
    def message(self) -> str:
        return self.error.message if self.error else ""

    @property
    def field(self) -> str | None:
        return self.error.field if self.error else None


def diagnose(url: str, network: NetworkSettings) -> Outcome:
    out = Outcome()
    steps = network_steps(url, network)
    assert [s.key for s in steps] == ["dns", "tcp", "tls", "http"]
    for step in steps:
        try:
            out.details[step.key] = step.run()
        except UserFacingError as exc:
            out.failed, out.error = step.key, exc
            break
    return out
