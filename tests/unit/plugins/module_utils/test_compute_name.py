"""The compute name rule: the intersection of the service's 2-16 rule and the 2026-03-01 path pattern."""

import random
import re

import pytest
from ansible_collections.hci.arc_ml.plugins.module_utils._compute.name import (
    PATTERN,
    ComputeNameError,
    check_compute_name,
    compute_name_problems,
)

# The two published rules (the service's 400 text, and the API's pattern from 2026-03-01 on), as the sources state them.
SERVICE_RULE = re.compile(r"^[a-zA-Z][a-zA-Z0-9-]{0,14}[a-zA-Z0-9]$")  # the RP's 400 text: 2-16 characters
API_2026_PATTERN = re.compile(r"^[a-zA-Z](?![a-zA-Z0-9-]*-\d+$)[a-zA-Z0-9\-]{2,23}$")


@pytest.mark.parametrize(
    "name",
    ["arccompute", "abc", "k8s-hci", "a1b", "hci-seattle-01a", "x" * 16, "A-B-C", "k8s-1a", "ab-c1", "gpu2"],
)
def test_valid_names(name):
    assert check_compute_name(name) == name
    assert compute_name_problems(name) == []


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("ab", "is 2 characters long"),
        ("x" * 17, "is 17 characters long"),
        ("1abc", "does not start with a letter"),
        ("-abc", "does not start with a letter"),
        ("abc-", "does not end with a letter or digit"),
        ("abc_def", "contains '_'"),
        ("abc.def", "contains '.'"),
        ("abc def", "contains ' '"),
        ("compute-1", "ends with '-' followed by digits"),
        ("k8s-hci-2026", "ends with '-' followed by digits"),
        ("\u00e1bcd", "does not start with a letter"),
        ("", "is empty"),
    ],
)
def test_invalid_names_say_why(name, reason):
    assert reason in compute_name_problems(name)
    with pytest.raises(ComputeNameError) as failure:
        check_compute_name(name)
    message = failure.value.message
    assert reason in message
    assert "nothing was sent to Azure" in message
    assert "\n" not in message


def test_every_problem_is_reported_at_once():
    problems = compute_name_problems("9_compute-name-way-too-long-1")
    assert "does not start with a letter" in problems
    assert "contains '_'" in problems
    assert "ends with '-' followed by digits" in problems
    assert any(p.startswith("is 29 characters") for p in problems)


def test_rule_is_the_intersection_of_both_sources():
    """On many random names: valid here exactly when both published rules accept it."""
    rng = random.Random(9)  # noqa: S311 -- reproducible test names, not secrets
    alphabet = "abZ09-_."
    names = set()
    while len(names) < 5000:
        names.add("".join(rng.choice(alphabet) for position in range(rng.randint(0, 19))))
    for name in names:
        both = bool(SERVICE_RULE.match(name)) and bool(API_2026_PATTERN.match(name))
        assert (compute_name_problems(name) == []) is both, name
        assert bool(PATTERN.match(name)) is both, name
