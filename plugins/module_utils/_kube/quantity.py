# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""Kubernetes resource quantities ("500m", "8Gi", "1.5", "12e6"): exact parsing and readable output.

The grammar is apimachinery's (k8s.io/apimachinery/pkg/api/resource): a signed decimal number followed
by at most one of a binary suffix (Ki Mi Gi Ti Pi Ei), a decimal suffix (n u m k M G T P E) or a decimal
exponent (e3, E-2). Upper-case "K" is not a suffix. Values are Decimals, so nothing is lost to floats.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
# A suffix is tried before an exponent: "1E" is one exa, "1E3" is one thousand.
_QUANTITY = re.compile(
    r"(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?:(?P<suffix>[KMGTPE]i|[numkMGTPE])|[eE](?P<exponent>[+-]?[0-9]+))?"
)
# Memory in messages: the largest binary unit that keeps the number at or above 1.
_MEMORY_UNITS = (("Ei", 2**60), ("Pi", 2**50), ("Ti", 2**40), ("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10))


class QuantityError(ValueError):
    """A string that is not a Kubernetes quantity."""


def parse_quantity(value):
    """The exact value of a Kubernetes quantity as a Decimal; ints and floats are taken as plain numbers."""
    if isinstance(value, bool):
        raise QuantityError(f"{value!r} is not a Kubernetes quantity")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if not isinstance(value, str):
        raise QuantityError(f"{value!r} is not a Kubernetes quantity")
    match = _QUANTITY.fullmatch(value.strip())
    if not match:
        raise QuantityError(
            f"{value!r} is not a Kubernetes quantity (expected a number with an optional suffix such as "
            "500m, 4, 8Gi or 8G)"
        )
    try:
        number = Decimal(match.group("number"))
    except InvalidOperation:  # pragma: no cover - the pattern only admits valid decimals
        raise QuantityError(f"{value!r} is not a Kubernetes quantity") from None
    suffix, exponent = match.group("suffix"), match.group("exponent")
    if exponent is not None:
        return number.scaleb(int(exponent))
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    return number.scaleb(_DECIMAL[suffix or ""])


def _plain(number, places):
    """`number` rounded to `places` decimals, without trailing zeros or exponent notation."""
    rounded = number.quantize(Decimal(1).scaleb(-places)) if places else number.to_integral_value()
    text = format(rounded.normalize(), "f")
    return "0" if text in ("-0", "") else text


def format_cpu(cores):
    """A CPU amount for people: '4 vCPU', '3.5 vCPU', '250m vCPU' below one core."""
    cores = Decimal(cores)
    if cores != 0 and abs(cores) < 1:
        return f"{_plain(cores * 1000, 0)}m vCPU"
    return f"{_plain(cores, 3)} vCPU"


def format_memory(size):
    """A byte count for people in binary units: '8Gi', '15.53Gi', '512Mi', '1000 bytes'."""
    size = Decimal(size)
    for unit, factor in _MEMORY_UNITS:
        if abs(size) >= factor:
            return f"{_plain(size / factor, 2)}{unit}"
    return f"{_plain(size, 0)} bytes"
