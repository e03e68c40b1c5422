"""Shipping addresses, as the portal's form and the API send them: a few named fields, each
checked, so a gift goes out with an address a carrier can read. Personal data (relationships
privacy): stored only on the deal's gifts."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from microfluence.kernel.errors import InputError

# field -> (required, max length)
FIELDS: dict[str, tuple[bool, int]] = {
    "name": (True, 200),
    "line1": (True, 200),
    "line2": (False, 200),
    "city": (True, 100),
    "region": (False, 100),
    "postal_code": (True, 20),
    "country": (True, 60),  # then checked as a 2-letter code, with a hint
    "phone": (False, 40),
}
LABELS = {
    "name": "Full name",
    "line1": "Address",
    "line2": "Address (line 2)",
    "city": "City",
    "region": "State / region",
    "postal_code": "Postal code",
    "country": "Country (2-letter code)",
    "phone": "Phone (for the carrier)",
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_POSTAL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 -]{1,19}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_PHONE = re.compile(r"^\+?[0-9 ().-]{5,40}$")


def _text(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InputError("expected text", field=f"address.{name}")
    return " ".join(value.split())  # one line, single spaces


def parse_address(data: Mapping[str, Any]) -> dict[str, str]:
    """The address, its fields trimmed; InputError naming the first bad field otherwise."""
    if not isinstance(data, Mapping):
        raise InputError("expected an address", field="address")
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise InputError(
            f"unknown field {unknown[0]!r}; the fields are {', '.join(FIELDS)}", field="address"
        )
    address: dict[str, str] = {}
    for name, (required, size) in FIELDS.items():
        raw = data.get(name)
        if isinstance(raw, str) and _CONTROL.search(raw.replace("\n", " ")):
            raise InputError("contains control characters", field=f"address.{name}")
        value = _text(data, name)
        if not value:
            if required:
                raise InputError(f"{LABELS[name].lower()} is required", field=f"address.{name}")
            continue
        if len(value) > size:
            raise InputError(f"at most {size} characters", field=f"address.{name}")
        address[name] = value
    address["country"] = address["country"].upper()
    checks = (
        ("country", _COUNTRY, "a 2-letter country code (ISO 3166-1), e.g. FR or US"),
        ("postal_code", _POSTAL, "2 to 20 letters, digits, spaces or '-'"),
        ("phone", _PHONE, "digits, spaces and + ( ) . - only"),
    )
    for name, pattern, hint in checks:
        if name in address and not pattern.match(address[name]):
            raise InputError(hint, field=f"address.{name}", value=address[name][:40])
    return address
