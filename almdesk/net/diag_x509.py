"""A small reader for DER X.509 certificates: subject, issuer, validity, SANs, CA flag.

The standard library only decodes a peer certificate after a *successful* verification; the
diagnosis needs the facts of certificates that fail it (self-signed, expired, wrong host), so this
reads the DER bytes directly. Only what the TLS step shows is decoded; unknown parts are skipped.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass, field

_OID_NAMES = {
    "2.5.4.3": "CN", "2.5.4.5": "serialNumber", "2.5.4.6": "C", "2.5.4.7": "L", "2.5.4.8": "ST",
    "2.5.4.9": "street", "2.5.4.10": "O", "2.5.4.11": "OU", "1.2.840.113549.1.9.1": "emailAddress",
    "0.9.2342.19200300.100.1.25": "DC", "0.9.2342.19200300.100.1.1": "UID",
}
_OID_SAN = "2.5.29.17"
_OID_BASIC_CONSTRAINTS = "2.5.29.19"

# Universal tags
_BOOLEAN, _INTEGER, _OCTET_STRING, _OID, _SEQUENCE, _SET = 0x01, 0x02, 0x04, 0x06, 0x30, 0x31
_UTC_TIME, _GENERALIZED_TIME = 0x17, 0x18
_STRING_CODECS = {0x0C: "utf-8", 0x13: "ascii", 0x16: "ascii", 0x14: "latin-1", 0x1A: "ascii",
                  0x1E: "utf-16-be", 0x1C: "utf-32-be"}


class DerError(ValueError):
    """The bytes are not a certificate this reader understands."""


@dataclass(frozen=True)
class Tlv:
    tag: int
    value: bytes
    raw: bytes  # the whole element, tag and length included


def _read(data: bytes, pos: int) -> tuple[Tlv, int]:
    if pos + 2 > len(data):
        raise DerError("truncated element")
    tag = data[pos]
    length = data[pos + 1]
    head = 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or pos + 2 + count > len(data):
            raise DerError("bad length")
        length = int.from_bytes(data[pos + 2:pos + 2 + count], "big")
        head += count
    end = pos + head + length
    if end > len(data):
        raise DerError("element runs past the end")
    return Tlv(tag, data[pos + head:end], data[pos:end]), end


def children(data: bytes) -> list[Tlv]:
    """The elements inside a constructed value."""
    out: list[Tlv] = []
    pos = 0
    while pos < len(data):
        tlv, pos = _read(data, pos)
        out.append(tlv)
    return out


def _oid(value: bytes) -> str:
    if not value:
        raise DerError("empty OID")
    parts = [value[0] // 40, value[0] % 40] if value[0] < 80 else [2, value[0] - 80]
    n = 0
    for byte in value[1:]:
        n = (n << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(n)
            n = 0
    return ".".join(str(p) for p in parts)


def _text(tlv: Tlv) -> str:
    codec = _STRING_CODECS.get(tlv.tag)
    if codec is None:
        return tlv.value.hex()
    return tlv.value.decode(codec, "replace")


def _time(tlv: Tlv) -> dt.datetime:
    text = tlv.value.decode("ascii")
    if tlv.tag == _UTC_TIME:
        year = int(text[:2])
        text = ("19" if year >= 50 else "20") + text
    elif tlv.tag != _GENERALIZED_TIME:
        raise DerError("bad time")
    if not text.endswith("Z") or len(text) < 15:
        raise DerError(f"unsupported time {text!r}")
    return dt.datetime.strptime(text[:14], "%Y%m%d%H%M%S").replace(tzinfo=dt.UTC)


def _name(tlv: Tlv) -> tuple[tuple[str, str], ...]:
    pairs: list[tuple[str, str]] = []
    for rdn in children(tlv.value):
        for atv in children(rdn.value):
            oid_tlv, value_tlv = children(atv.value)[:2]
            oid = _oid(oid_tlv.value)
            pairs.append((_OID_NAMES.get(oid, oid), _text(value_tlv)))
    return tuple(pairs)


def format_name(pairs: tuple[tuple[str, str], ...]) -> str:
    """A distinguished name the way people read it: most specific first (``CN=…, O=…``)."""
    return ", ".join(f"{k}={v}" for k, v in reversed(pairs)) or "(empty)"


def _general_names(value: bytes) -> tuple[str, ...]:
    names: list[str] = []
    for gn in children(value):
        if gn.tag == 0x82:  # dNSName
            names.append(gn.value.decode("ascii", "replace"))
        elif gn.tag == 0x87:  # iPAddress
            try:
                names.append(str(ipaddress.ip_address(gn.value)))
            except ValueError:
                continue
        elif gn.tag == 0x81:  # rfc822Name
            names.append("email:" + gn.value.decode("ascii", "replace"))
        elif gn.tag == 0x86:  # URI
            names.append("URI:" + gn.value.decode("ascii", "replace"))
    return tuple(names)


@dataclass(frozen=True)
class X509Facts:
    """What a certificate says about itself (nothing here is verified)."""

    subject: tuple[tuple[str, str], ...]
    issuer: tuple[tuple[str, str], ...]
    not_before: dt.datetime
    not_after: dt.datetime
    sans: tuple[str, ...] = ()
    is_ca: bool = False
    raw_subject: bytes = field(default=b"", repr=False)
    raw_issuer: bytes = field(default=b"", repr=False)

    @property
    def common_name(self) -> str:
        return next((v for k, v in reversed(self.subject) if k == "CN"), "")

    @property
    def self_issued(self) -> bool:
        """Subject and issuer are the same name: a self-signed certificate (or a root CA)."""
        return self.raw_subject == self.raw_issuer


def parse_der(der: bytes) -> X509Facts:
    """Decode the parts of a DER certificate the TLS step shows. Raises :class:`DerError`."""
    try:
        top, _ = _read(der, 0)
        tbs = children(children(top.value)[0].value)
        if tbs and tbs[0].tag == 0xA0:  # explicit version
            tbs = tbs[1:]
        # serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo, [extensions]
        issuer, validity, subject = tbs[2], tbs[3], tbs[4]
        not_before, not_after = (_time(t) for t in children(validity.value)[:2])
        sans: tuple[str, ...] = ()
        is_ca = False
        for extra in tbs[6:]:
            if extra.tag != 0xA3:
                continue
            for ext in children(children(extra.value)[0].value):
                parts = children(ext.value)
                oid = _oid(parts[0].value)
                value = parts[-1].value
                if oid == _OID_SAN:
                    sans = _general_names(children(value)[0].value)
                elif oid == _OID_BASIC_CONSTRAINTS:
                    inner = children(children(value)[0].value)
                    is_ca = bool(inner and inner[0].tag == _BOOLEAN and inner[0].value != b"\x00")
        return X509Facts(subject=_name(subject), issuer=_name(issuer), not_before=not_before,
                         not_after=not_after, sans=sans, is_ca=is_ca, raw_subject=subject.raw,
                         raw_issuer=issuer.raw)
    except (IndexError, UnicodeDecodeError, ValueError) as exc:
        raise DerError(f"not a readable X.509 certificate ({exc})") from None


def host_matches(facts: X509Facts, host: str) -> bool:
    """Whether the certificate is valid for ``host`` (RFC 6125: SANs, else the CN; ``*.`` wildcards)."""
    host = host.strip("[]").rstrip(".").lower()
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    dns = [n.lower() for n in facts.sans if not n.startswith(("email:", "URI:"))]
    if not facts.sans and facts.common_name:
        dns = [facts.common_name.lower()]
    for name in dns:
        if ip is not None:
            try:
                if ipaddress.ip_address(name) == ip:
                    return True
            except ValueError:
                continue
        elif name == host or (name.startswith("*.") and "." in host
                              and host.split(".", 1)[1] == name[2:] and name.count(".") >= 2):
            return True
    return False
