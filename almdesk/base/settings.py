"""Settings handed to a system: plain data (ids, not ORM objects, cross threads)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


def is_loopback(host: str | None) -> bool:
    """True for localhost and loopback addresses (plain http is fine there)."""
    return bool(host) and (host in ("localhost", "::1") or str(host).startswith("127."))


@dataclass
class NetworkSettings:
    """How a connector reaches its server."""

    verify: bool = True
    ca_bundle: str = ""
    proxy_mode: str = "system"  # system | explicit | none
    proxy_url: str = ""
    proxy_user: str = ""
    no_proxy: str = ""
    timeout: float = 30.0  # seconds to connect, and between two reads of an answer
    max_answer_mb: int = 64  # the largest answer body read, in MiB after decompression
    request_deadline: float = 300.0  # seconds one request may take from sending to its answer's last byte

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> NetworkSettings:
        known = cls.__dataclass_fields__
        return cls(**{k: v for k, v in (data or {}).items() if k in known})


@dataclass
class ConnectorSettings:
    """A connector as a system sees it: parsed params, secrets from the keyring, network."""

    name: str
    system: str
    params: dict[str, Any]
    secrets: dict[str, str] = field(default_factory=dict)
    network: NetworkSettings = field(default_factory=NetworkSettings)
    uid: str = ""
    id: int | None = None  # the stored connector's id (None: a draft of a new connector)

    def secret(self, key: str) -> str:
        return self.secrets.get(key, "")


@dataclass
class ConnectionSettings:
    """A connection: its connector, parsed params (system + common), and the project it syncs."""

    alias: str
    connector: ConnectorSettings
    params: dict[str, Any]
    project: str = ""
    business_unit: str = ""
    application: str = ""
    debug: bool = False
    id: int | None = None  # the stored connection's id (None: a draft of a new connection)
