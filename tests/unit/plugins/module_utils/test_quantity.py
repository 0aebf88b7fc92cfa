"""Kubernetes quantities: apimachinery's grammar, exact values, and the way messages show them."""

from decimal import Decimal

import pytest
from ansible_collections.hci.arc_ml.plugins.module_utils._kube.quantity import (
    QuantityError,
    format_cpu,
    format_memory,
    parse_quantity,
)

GI = 2**30


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", 0),
        ("4", 4),
        ("500m", Decimal("0.5")),
        ("7910m", Decimal("7.91")),
        ("1.5", Decimal("1.5")),
        (".5", Decimal("0.5")),
        ("5.", 5),
        ("+2", 2),
        ("-1", -1),
        ("100n", Decimal("0.0000001")),
        ("250u", Decimal("0.00025")),
        ("1k", 1000),
        ("8G", 8 * 10**9),
        ("2T", 2 * 10**12),
        ("1E", 10**18),
        ("8Gi", 8 * GI),
        ("1.5Gi", 3 * GI // 2),
        ("16283136Ki", 16283136 * 1024),
        ("512Mi", 512 * 2**20),
        ("1Ei", 2**60),
        ("12e6", 12 * 10**6),
        ("1E3", 1000),
        ("5e-1", Decimal("0.5")),
        ("129M", 129 * 10**6),
        (" 8Gi ", 8 * GI),
        (4, 4),
        (3.5, Decimal("3.5")),
        (8589934592, 8 * GI),
    ],
)
def test_parses_every_form_exactly(text, value):
    assert parse_quantity(text) == value


@pytest.mark.parametrize("text", ["", "abc", "1K", "1Kb", "8GB", "1e", "Gi", "1.2.3", "1 Gi", "m", "--1", "0x10"])
def test_rejects_what_kubernetes_rejects(text):
    with pytest.raises(QuantityError, match="is not a Kubernetes quantity"):
        parse_quantity(text)


@pytest.mark.parametrize("value", [None, True, ["8Gi"], {"memory": "8Gi"}])
def test_rejects_values_that_are_not_numbers_or_strings(value):
    with pytest.raises(QuantityError):
        parse_quantity(value)


@pytest.mark.parametrize(
    ("cores", "text"),
    [(4, "4 vCPU"), (Decimal("3.5"), "3.5 vCPU"), (Decimal("7.91"), "7.91 vCPU"), (Decimal("0.25"), "250m vCPU"),
     (0, "0 vCPU"), (Decimal("2.0000"), "2 vCPU")],
)  # fmt: skip
def test_cpu_for_people(cores, text):
    assert format_cpu(cores) == text


@pytest.mark.parametrize(
    ("size", "text"),
    [(8 * GI, "8Gi"), (16283136 * 1024, "15.53Gi"), (512 * 2**20, "512Mi"), (1000, "1000 bytes"),
     (3 * GI // 2, "1.5Gi"), (2**40, "1Ti"), (4 * GI - 8 * GI, "-4Gi"), (0, "0 bytes")],
)  # fmt: skip
def test_memory_for_people(size, text):
    assert format_memory(size) == text
