"""Fault rules: matching, counting, rates, latency and validation."""

import pytest

from sandbox.emulator.faults import FaultRules


def test_a_counted_rule_answers_that_many_matching_requests():
    rules = FaultRules()
    rules.add({"method": "PUT", "path": "/connectedClusters/c1$", "status": 429, "retry_after": 1, "count": 2})
    assert rules.select("GET", "/x/connectedClusters/c1") == (0.0, None)
    answers = [rules.select("put", "/x/connectedclusters/C1")[1] for attempt in range(3)]
    assert [a is not None for a in answers] == [True, True, False]
    error = answers[0].error()
    assert (error.status, error.code, error.headers) == (429, "SubscriptionRequestsThrottled", {"Retry-After": "1"})
    assert rules.list()[0]["hits"] == 2


def test_rates_of_zero_and_one():
    rules = FaultRules()
    rules.add({"path": "/a", "status": 503, "rate": 0.0})
    rules.add({"path": "/b", "status": 503, "rate": 1.0, "seed": 7})
    assert rules.select("GET", "/a")[1] is None
    assert rules.select("GET", "/b")[1].status == 503


def test_latency_adds_up_and_the_first_answering_rule_wins():
    rules = FaultRules()
    rules.add({"latency": 0.2})
    rules.add({"path": "/x", "status": 500, "code": "Custom", "latency": 0.1})
    rules.add({"path": "/x", "reset": True})
    latency, rule = rules.select("GET", "/x")
    assert latency == pytest.approx(0.3)
    assert rule.status == 500 and rule.error().code == "Custom"
    assert [r["hits"] for r in rules.list()] == [1, 1, 0]


def test_rules_can_be_removed():
    rules = FaultRules()
    rule = rules.add({"reset": True})
    assert rules.remove(rule.id) and not rules.remove(rule.id)
    assert rules.select("GET", "/") == (0.0, None)


@pytest.mark.parametrize(
    "spec",
    [
        {},
        {"status": 200},
        {"status": 500, "reset": True},
        {"status": 500, "count": 1, "rate": 0.5},
        {"status": 500, "count": 0},
        {"status": 500, "rate": 2},
        {"status": 500, "path": "("},
        {"status": 500, "verb": "GET"},
        {"latency": -1},
    ],
)
def test_invalid_rules_are_refused(spec):
    with pytest.raises(ValueError):
        FaultRules().add(spec)
