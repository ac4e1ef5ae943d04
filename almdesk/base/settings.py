"""Settings handed to a system: plain data (ids, not ORM objects, cross threads).

A client certificate (mTLS) is part of :class:`NetworkSettings`, because the TLS layer presents it on
every connection (the Test Connection network steps and every session alike). Its *user-facing* fields
are connector fields of the systems that offer it (Jira Data Center): ``client_cert`` and
``client_key`` (PEM paths, in the params) and ``client_key_passphrase`` (a secret, keyring only).
:class:`ConnectorSettings` copies them into its ``network``; the passphrase lives there only at run time
and never reaches :meth:`NetworkSettings.to_dict` (what is stored).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any


def is_loopback(host: str | None) -> bool:
    """True for localhost and loopback addresses (plain http is fine there)."""
    return bool(host) and (host in ("localhost", "::1") or str(host).startswith("127."))


CLIENT_CERT_PARAMS = ("client_cert", "client_key")  # connector params copied into the network settings
CLIENT_KEY_SECRET = "client_key_passphrase"  # the connector secret holding the key's passphrase
RUNTIME_ONLY = frozenset({"client_key_password"})


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
    client_cert: str = ""  # PEM file of the client certificate (mTLS); may hold the key too
    client_key: str = ""  # PEM file of its private key ("" when it is in client_cert)
    client_key_password: str = field(default="", repr=False)  # run time only: from the keyring, never stored

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in RUNTIME_ONLY}

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

    def __post_init__(self) -> None:
        cert, key = (str(self.params.get(name) or "").strip() for name in CLIENT_CERT_PARAMS)
        if cert and not self.network.client_cert:
            self.network = replace(self.network, client_cert=cert, client_key=key,
                                   client_key_password=self.secret(CLIENT_KEY_SECRET))

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
