"""Fault injection: rules that answer matching requests with an error, a delay or a dropped connection.

A rule: {"method": "GET" or "*", "path": regex searched in the path (case-insensitive),
"status": 429, "retry_after": 1, "code": ..., "message": ..., "count": N or "rate": 0.0-1.0,
"latency": seconds, "reset": true}. Latency of every matching rule adds up; the
first matching rule with a status or a reset decides the answer.
"""

from __future__ import annotations

import itertools
import random
import re
from dataclasses import asdict, dataclass

from .arm import ArmError

DEFAULT_ERRORS = {
    400: ("BadRequest", "The request is invalid."),
    408: ("RequestTimeout", "The request timed out."),
    409: ("Conflict", "The request conflicts with the current state of the resource."),
    429: (
        "SubscriptionRequestsThrottled",
        "Number of requests for this subscription exceeded the limit. Please try again after the number of seconds "
        "in the Retry-After header. Refer to https://aka.ms/arm-throttling for additional information.",
    ),
    500: ("InternalServerError", "Encountered internal server error. Please retry the request."),
    502: ("BadGateway", "The gateway did not receive a valid response from the resource provider."),
    503: ("ServiceUnavailable", "The service is temporarily unavailable. Please retry the request."),
    504: ("GatewayTimeout", "The gateway did not receive a response within the specified time period."),
}
FIELDS = {"method", "path", "status", "retry_after", "code", "message", "count", "rate", "latency", "reset", "seed"}


@dataclass
class FaultRule:
    id: str
    path: str = ".*"
    method: str = "*"
    status: int | None = None
    retry_after: str | None = None
    code: str | None = None
    message: str | None = None
    count: int | None = None
    rate: float | None = None
    latency: float = 0.0
    reset: bool = False
    hits: int = 0

    def __post_init__(self):
        self._regex = re.compile(self.path, re.IGNORECASE)

    def matches(self, method: str, path: str) -> bool:
        return (self.method == "*" or self.method.upper() == method.upper()) and bool(self._regex.search(path))

    @property
    def exhausted(self) -> bool:
        return self.count is not None and self.hits >= self.count

    def error(self) -> ArmError:
        code, message = DEFAULT_ERRORS.get(self.status, ("Fault", "Injected fault."))
        headers = {"Retry-After": self.retry_after} if self.retry_after is not None else {}
        return ArmError(self.status, self.code or code, self.message or message, headers=headers)

    def public(self) -> dict:
        return {k: v for k, v in asdict(self).items() if not k.startswith("_")}


def _validate(spec: dict) -> dict:
    if not isinstance(spec, dict):
        raise ValueError("a fault rule is a JSON object")
    unknown = set(spec) - FIELDS
    if unknown:
        raise ValueError(f"unknown fault rule fields {sorted(unknown)}; known: {sorted(FIELDS)}")
    status, reset, latency = spec.get("status"), bool(spec.get("reset")), float(spec.get("latency") or 0)
    if status is None and not reset and latency <= 0:
        raise ValueError("a fault rule needs a 'status', 'reset': true or a 'latency'")
    if status is not None and (not isinstance(status, int) or not 400 <= status <= 599):
        raise ValueError("'status' must be an HTTP error status (400-599)")
    if status is not None and reset:
        raise ValueError("'status' and 'reset' exclude each other")
    if spec.get("count") is not None and spec.get("rate") is not None:
        raise ValueError("give 'count' or 'rate', not both")
    if spec.get("count") is not None and (not isinstance(spec["count"], int) or spec["count"] < 1):
        raise ValueError("'count' must be a positive integer")
    if spec.get("rate") is not None and not 0.0 <= float(spec["rate"]) <= 1.0:
        raise ValueError("'rate' must be between 0 and 1")
    try:
        re.compile(spec.get("path", ".*"))
    except re.error as err:
        raise ValueError(f"'path' is not a valid regular expression: {err}") from None
    if latency < 0 or latency > 600:
        raise ValueError("'latency' must be between 0 and 600 seconds")
    return spec


class FaultRules:
    def __init__(self):
        self._rules: list[FaultRule] = []
        self._ids = itertools.count(1)
        self._random = random.Random()  # noqa: S311 - fault sampling, not security

    def add(self, spec: dict) -> FaultRule:
        spec = _validate(spec)
        if spec.get("seed") is not None:
            self._random.seed(spec["seed"])
        retry_after = spec.get("retry_after")
        rule = FaultRule(
            id=f"fault-{next(self._ids)}",
            path=spec.get("path", ".*"),
            method=spec.get("method", "*"),
            status=spec.get("status"),
            retry_after=None if retry_after is None else str(retry_after),
            code=spec.get("code"),
            message=spec.get("message"),
            count=spec.get("count"),
            rate=None if spec.get("rate") is None else float(spec["rate"]),
            latency=float(spec.get("latency") or 0),
            reset=bool(spec.get("reset")),
        )
        self._rules.append(rule)
        return rule

    def list(self) -> list:
        return [r.public() for r in self._rules]

    def remove(self, rule_id: str) -> bool:
        before = len(self._rules)
        self._rules = [r for r in self._rules if r.id != rule_id]
        return len(self._rules) != before

    def clear(self) -> None:
        self._rules.clear()

    def select(self, method: str, path: str) -> tuple[float, FaultRule | None]:
        """(added latency, the rule that answers or None) for a request; counts the hits."""
        latency, answer = 0.0, None
        for rule in self._rules:
            if rule.exhausted or not rule.matches(method, path):
                continue
            if rule.rate is not None and self._random.random() >= rule.rate:
                continue
            if (rule.status is not None or rule.reset) and answer is not None:
                continue
            rule.hits += 1
            latency += rule.latency
            if rule.status is not None or rule.reset:
                answer = rule
        return latency, answer
