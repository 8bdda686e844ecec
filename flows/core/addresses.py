"""E-mail address identity: strict addr-spec parsing and normalisation.

Identity comes only from the addr-spec, never from a display name (CVE-2023-27043 class).
"""

from __future__ import annotations

from email.errors import HeaderParseError
from email.headerregistry import Address
from email.utils import getaddresses


class AddressError(ValueError):
    """Not a single, valid addr-spec."""


def normalise_address(text: str) -> str:
    """``local@domain`` lowercased, the domain IDNA-encoded; raises AddressError."""
    value = text.strip()
    if not value or any(ch in value for ch in '\r\n\x00<>(),;: \t"') or value.count("@") != 1:
        msg = f"ugyldig e-mailadresse: {text!r}"
        raise AddressError(msg)
    try:
        address = Address(addr_spec=value)
    except (ValueError, IndexError, TypeError, HeaderParseError) as exc:
        msg = f"ugyldig e-mailadresse: {text!r}"
        raise AddressError(msg) from exc
    local, domain = address.username, address.domain
    if not local or not domain or "." not in domain:
        msg = f"ugyldig e-mailadresse: {text!r}"
        raise AddressError(msg)
    return f"{local.lower()}@{normalise_domain(domain)}"


def normalise_domain(domain: str) -> str:
    value = domain.strip().strip(".").lower()
    try:
        return value.encode("idna").decode("ascii")
    except UnicodeError as exc:
        msg = f"ugyldigt domæne: {domain!r}"
        raise AddressError(msg) from exc


def domain_of(address: str) -> str:
    return address.rpartition("@")[2]


def header_addresses(values: list[str]) -> list[str]:
    """Normalised addr-specs from address header values; invalid ones are skipped.

    ``getaddresses`` runs in strict mode on patched Pythons, so a crafted
    ``alice@org.dk(<bob@evil.test>`` yields nothing rather than the wrong address.
    """
    found: list[str] = []
    for _name, addr in getaddresses(values):
        try:
            found.append(normalise_address(addr))
        except AddressError:
            continue
    return found
