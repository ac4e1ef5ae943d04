"""Client-certificate TLS (mutual TLS) for the Jira Data Center sandbox.

:class:`MutualTls` generates, into a directory, a private CA, a server certificate for ``localhost`` and
``127.0.0.1`` signed by it, a client certificate signed by it (its key encrypted with a passphrase, and
the same key unencrypted, and a PEM holding certificate and key together), and a client certificate from
a second CA the server does not trust. :meth:`MutualTls.server_context` requires a client certificate
signed by the CA, as a Jira behind an mTLS reverse proxy does: a handshake without one ends with the
``certificate required`` alert, one from the other CA with ``unknown ca``.

It needs ``cryptography`` (a test dependency, imported when a MutualTls is made), so the shipped app
never imports it.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from pathlib import Path
from typing import Any

PASSPHRASE = "sandbox-key-pass"


class MutualTls:
    """The files (``ca``, ``server_cert``/``server_key``, ``client_cert``, ``client_key`` (encrypted with
    ``passphrase``), ``client_key_plain``, ``client_combined``, ``rogue_cert``/``rogue_key``) in ``directory``."""

    def __init__(self, directory: Path | str, passphrase: str = PASSPHRASE, user: str = "admin") -> None:
        from cryptography.hazmat.primitives import serialization

        self._serialization: Any = serialization
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.passphrase = passphrase
        ca, ca_key = self._authority("almdesk Sandbox mTLS CA")
        rogue_ca, rogue_ca_key = self._authority("Unknown Client CA")
        self.ca = self._write("ca.pem", self._pem(ca))
        server, server_key = self._leaf("localhost", ca, ca_key, server=True)
        self.server_cert = self._write("server.pem", self._pem(server))
        self.server_key = self._write("server.key", self._key_pem(server_key))
        client, client_key = self._leaf(user, ca, ca_key, server=False)
        self.client_cert = self._write("client.pem", self._pem(client))
        self.client_key = self._write("client.key", self._key_pem(client_key, passphrase))
        self.client_key_plain = self._write("client-plain.key", self._key_pem(client_key))
        self.client_combined = self._write("client-combined.pem", self._pem(client) + self._key_pem(client_key))
        rogue, rogue_key = self._leaf(user, rogue_ca, rogue_ca_key, server=False)
        self.rogue_cert = self._write("rogue.pem", self._pem(rogue))
        self.rogue_key = self._write("rogue.key", self._key_pem(rogue_key))

    def server_context(self) -> ssl.SSLContext:
        """A server context presenting the server certificate and requiring a client one from the CA."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.server_cert, self.server_key)
        ctx.load_verify_locations(cafile=self.ca)
        ctx.verify_mode = ssl.CERT_REQUIRED
        return ctx

    # --- generation -------------------------------------------------------------------------
    def _write(self, name: str, data: bytes) -> str:
        path = self.directory / name
        path.write_bytes(data)
        return str(path)

    def _pem(self, cert: Any) -> bytes:
        return bytes(cert.public_bytes(self._serialization.Encoding.PEM))

    def _key_pem(self, key: Any, passphrase: str = "") -> bytes:
        s = self._serialization
        crypt = s.BestAvailableEncryption(passphrase.encode()) if passphrase else s.NoEncryption()
        return bytes(key.private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, crypt))

    @staticmethod
    def _authority(name: str) -> tuple[Any, Any]:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        today = dt.datetime.now(dt.UTC)
        cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(today - dt.timedelta(days=1))
                .not_valid_after(today + dt.timedelta(days=365))
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                               critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                .sign(key, hashes.SHA256()))
        return cert, key

    @staticmethod
    def _leaf(name: str, issuer: Any, issuer_key: Any, *, server: bool) -> tuple[Any, Any]:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        today = dt.datetime.now(dt.UTC)
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
                   .issuer_name(issuer.subject).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(today - dt.timedelta(days=1))
                   .not_valid_after(today + dt.timedelta(days=90))
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.ExtendedKeyUsage([usage]), critical=False))
        if server:
            builder = builder.add_extension(x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        return builder.sign(issuer_key, hashes.SHA256()), key
