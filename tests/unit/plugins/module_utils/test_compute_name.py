"""The compute name rule (the intersection of the service's 2-16 rule and the 2026-03-01 path pattern), and the
default compute name of a cluster: unique per cluster ARM id, the same on every run, always valid."""

import random
import re

import pytest
from ansible_collections.hci.arc_ml.plugins.module_utils._compute.name import (
    PATTERN,
    ComputeNameError,
    check_compute_name,
    compute_name_problems,
    default_compute_name,
    legacy_compute_name,
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


SUB = "6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"
STORES = f"/subscriptions/{SUB}/resourceGroups/rg-stores/providers/Microsoft.Kubernetes/connectedClusters/"


def fleet(count=500, prefix="contoso-store-"):
    return [f"{STORES}{prefix}{index:04d}" for index in range(1, count + 1)]


def test_500_sites_with_a_shared_long_prefix_get_500_distinct_valid_names():
    names = [default_compute_name(cluster_id) for cluster_id in fleet()]
    assert len(set(names)) == 500
    for name in names:
        assert compute_name_problems(name) == [], name
        assert PATTERN.match(name), name
        assert name.startswith("contoso-")
    # What the compute_attach role named them before: 6 names for 500 sites (0001-0099 all contoso-store00).
    legacy = {legacy_compute_name(cluster_id.rsplit("/", 1)[-1]) for cluster_id in fleet()}
    assert legacy == {f"contoso-store0{digit}" for digit in range(6)}


def test_the_default_name_is_stable_across_runs_and_versions():
    """A pure function of the id: the same twice, and the names pinned here, which every attached fleet carries."""
    assert [default_compute_name(cluster_id) for cluster_id in fleet()] == [
        default_compute_name(cluster_id) for cluster_id in fleet()
    ]
    assert default_compute_name(STORES + "contoso-store-0001") == "contoso-hrwnh67r"
    assert default_compute_name(STORES + "contoso-store-0002") == "contoso-o7kj5x4z"
    assert default_compute_name(STORES + "hci-seattle") == "hci-sea-l2vkinxu"


def test_the_hash_is_of_the_whole_id_compared_as_arm_compares_it():
    cluster_id = STORES + "contoso-store-0001"
    assert default_compute_name(cluster_id.upper()) == default_compute_name(cluster_id)
    assert default_compute_name(cluster_id.replace("resourceGroups", "resourcegroups")) == default_compute_name(
        cluster_id
    )
    assert default_compute_name(cluster_id + "/") == default_compute_name(cluster_id)
    # The same cluster name in another resource group or subscription is another cluster.
    elsewhere = cluster_id.replace("rg-stores", "rg-stores-west")
    other_subscription = cluster_id.replace(SUB, "0c6fbbd0-5d5e-4b4c-9e3b-2a1f0e9d8c7b")
    assert len({default_compute_name(i) for i in (cluster_id, elsewhere, other_subscription)}) == 3


@pytest.mark.parametrize(
    ("cluster_name", "prefix"),
    [
        ("contoso-store-0001", "contoso-"),
        ("hci-seattle", "hci-sea-"),
        ("Contoso_Store_East", "contoso-"),  # lower-cased, '_' becomes '-'
        ("ab", "ab-"),
        ("hci-se-x1", "hci-se-"),  # no '-' at the prefix's end: never '--'
        ("1st_site", "st-site-"),  # from the first letter on
        ("0001", ""),  # no letter: the hash alone, which starts with a letter
        ("a" * 63, "aaaaaaa-"),
    ],
)
def test_the_prefix_is_readable_and_the_name_always_valid(cluster_name, prefix):
    name = default_compute_name(STORES + cluster_name)
    assert compute_name_problems(name) == [], name
    assert name.startswith(prefix) and len(name) == len(prefix) + 8
    assert "--" not in name


def test_random_cluster_names_always_give_valid_names():
    rng = random.Random(18)  # noqa: S311 -- reproducible test names, not secrets
    alphabet = "abcxyzABZ0189-_"
    for _case in range(3000):
        middle = "".join(rng.choice(alphabet) for _position in range(rng.randint(0, 61)))
        cluster_name = rng.choice("aZ0") + middle + rng.choice("z9")
        name = default_compute_name(STORES + cluster_name)
        assert compute_name_problems(name) == [], (cluster_name, name)
        assert bool(SERVICE_RULE.match(name)) and bool(API_2026_PATTERN.match(name)), name


@pytest.mark.parametrize(
    ("cluster_name", "legacy"),
    [
        ("contoso-store-0001", "contoso-store00"),
        ("site-001", "site001"),
        ("hci-seattle", "hci-seattle"),
        ("hci-seattle-east-", "hci-seattle-east"),
        ("hci-seattle-eas--x", "hci-seattle-eas"),
    ],
)
def test_the_legacy_name_is_what_the_role_derived(cluster_name, legacy):
    """The role's old default: cluster_name[:16] | regex_replace('-+$', '') | regex_replace('-([0-9]+)$', '\\1')."""
    assert legacy_compute_name(cluster_name) == legacy
