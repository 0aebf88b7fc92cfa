"""ARM's request throttling: token buckets per subscription, principal and operation type.

What Azure documents ("Understand how Azure Resource Manager throttles requests",
https://github.com/MicrosoftDocs/azure-docs/blob/main/articles/azure-resource-manager/management/request-limits-and-throttling.md,
published as https://learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling):
- since 2024 ARM throttles per region with a token bucket: every request takes a token; an empty bucket
  refills at a fixed rate up to its size. Subscription and tenant buckets: reads 250 (refill 25/s),
  deletes 200 (10/s), writes 200 (10/s);
- the subscription buckets are per subscription, per principal and per operation type; a global bucket per
  subscription and operation type, 15 times as large, is shared by every principal;
- every answer carries the tokens left: `x-ms-ratelimit-remaining-subscription-reads` on reads, `-writes` on
  writes, `-deletes` on deletes (the global buckets' in `x-ms-ratelimit-remaining-subscription-global-*`, as
  recorded answers show: 249 and 3749 after one read of a full bucket,
  https://github.com/Azure/azure-powershell/blob/main/src/Accounts/Accounts/help/Invoke-AzRestMethod.md);
  tenant requests carry `x-ms-ratelimit-remaining-tenant-*`;
- an empty bucket answers 429 with a Retry-After in seconds; the request is not processed (takes no token).
  ARM's body: `SubscriptionRequestsThrottled`, "Number of 'read' requests for subscription '{id}' actor
  '{object id}' exceeded. Please try again after '{n}' seconds after additional tokens are available. Refer
  to https://aka.ms/arm-throttling for additional information." (as Azure's own CI logs quote it,
  https://github.com/Azure/ARO-HCP).

The sandbox has one region, so one set of buckets. The `throttle_scale` setting multiplies every size and
refill rate (1: Azure's, the default; 0.02: a bucket of 5 reads refilling 0.5 a second; 0: no throttling and
no headers), so a test can run the buckets dry without sending thousands of requests. Buckets live in memory:
a restart finds them full. Time is `clock.monotonic`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from . import clock
from .arm import ArmError

# operation type: (bucket size, refill per second), for one principal in one subscription (or tenant).
LIMITS = {"reads": (250, 25.0), "writes": (200, 10.0), "deletes": (200, 10.0)}
# The global subscription buckets are this many times a principal's.
GLOBAL_FACTOR = 15
OPERATION_OF_METHOD = {"GET": "reads", "HEAD": "reads", "DELETE": "deletes"}
SINGULAR = {"reads": "read", "writes": "write", "deletes": "delete"}
HEADER_PREFIX = "x-ms-ratelimit-remaining-"
MORE_INFORMATION = "Refer to https://aka.ms/arm-throttling for additional information."


def operation_of(method: str) -> str:
    """ARM's operation type of a request: GET/HEAD read, DELETE delete, everything else (PUT, PATCH, POST) write."""
    return OPERATION_OF_METHOD.get(method.upper(), "writes")


@dataclass
class Bucket:
    size: float
    rate: float
    tokens: float
    stamp: float

    def refill(self, now: float) -> None:
        self.tokens = min(self.size, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def seconds_to_a_token(self) -> float:
        return max(0.0, (1.0 - self.tokens) / self.rate)

    @property
    def remaining(self) -> int:
        return int(self.tokens)


@dataclass
class Limit:
    """One bucket a request must find a token in: its key, header and what its 429 says."""

    key: tuple
    size: int
    rate: float
    header: str
    code: str
    # "Number of 'read' requests for subscription '…' actor '…'": the message up to "exceeded".
    requests: str

    def refusal(self, retry_after: int) -> str:
        return (
            f"{self.requests} exceeded. Please try again after '{retry_after}' seconds after additional tokens are "
            f"available. {MORE_INFORMATION}"
        )


@dataclass
class Decision:
    """What the front door does with a request: its rate-limit headers, and the 429 when a bucket is empty."""

    operation: str
    headers: dict
    error: ArmError | None = None
    limit: str | None = None

    def log_entry(self) -> dict | None:
        """The request log's note of a throttled request (None when it was let through)."""
        if self.error is None:
            return None
        return {"operation": self.operation, "limit": self.limit, "retryAfter": int(self.error.headers["Retry-After"])}


def scaled(operation: str, scale: float, factor: int = 1) -> tuple:
    size, rate = LIMITS[operation]
    return max(1, round(size * factor * scale)), rate * factor * scale


class Throttle:
    def __init__(self, now=None):
        # None: clock.monotonic, looked up at each call (tests may replace it).
        self._now = now
        self._buckets: dict = {}

    def admit(self, scale: float, method: str, principal_id: str, subscription: str | None, tenant: str) -> Decision:
        """Take a token from every bucket the request draws on, or refuse it with ARM's 429 (taking none)."""
        operation = operation_of(method)
        if scale <= 0:
            return Decision(operation, {})
        if subscription is not None:
            limits = self._subscription_limits(operation, scale, principal_id, subscription)
        else:
            limits = [self._tenant_limit(operation, scale, principal_id, tenant)]
        now = self._now() if self._now is not None else clock.monotonic()
        buckets = [(limit, self._bucket(limit, now)) for limit in limits]
        empty = [(limit, bucket) for limit, bucket in buckets if bucket.tokens < 1.0]
        if empty:
            return self._refuse(operation, buckets, empty)
        for _, bucket in buckets:
            bucket.tokens -= 1.0
        return Decision(operation, _headers(buckets))

    @staticmethod
    def _refuse(operation, buckets, empty) -> Decision:
        """ARM's 429: Retry-After is the whole seconds (at least 1) until the emptiest bucket has a token again."""
        limit, bucket = max(empty, key=lambda pair: pair[1].seconds_to_a_token())
        retry_after = max(1, math.ceil(bucket.seconds_to_a_token()))
        headers = _headers(buckets)
        error = ArmError(
            429, limit.code, limit.refusal(retry_after), headers={**headers, "Retry-After": str(retry_after)}
        )
        return Decision(operation, headers, error, limit.key[0])

    def _bucket(self, limit: Limit, now: float) -> Bucket:
        bucket = self._buckets.get(limit.key)
        if bucket is None or (bucket.size, bucket.rate) != (limit.size, limit.rate):
            # A new bucket, or the scale changed: start full, as a fresh subscription's buckets do.
            bucket = Bucket(limit.size, limit.rate, float(limit.size), now)
            self._buckets[limit.key] = bucket
        bucket.refill(now)
        return bucket

    @staticmethod
    def _subscription_limits(operation, scale, principal_id, subscription) -> list:
        kind = SINGULAR[operation]
        size, rate = scaled(operation, scale)
        global_size, global_rate = scaled(operation, scale, GLOBAL_FACTOR)
        sub = subscription.lower()
        return [
            Limit(
                ("principal", sub, principal_id.lower(), operation),
                size,
                rate,
                f"{HEADER_PREFIX}subscription-{operation}",
                "SubscriptionRequestsThrottled",
                f"Number of '{kind}' requests for subscription '{subscription}' actor '{principal_id}'",
            ),
            Limit(
                ("global", sub, operation),
                global_size,
                global_rate,
                f"{HEADER_PREFIX}subscription-global-{operation}",
                "SubscriptionRequestsThrottled",
                # Our choice: no public answer of an empty global bucket was found; the principal's, without actor.
                f"Number of '{kind}' requests for subscription '{subscription}'",
            ),
        ]

    @staticmethod
    def _tenant_limit(operation, scale, principal_id, tenant) -> Limit:
        size, rate = scaled(operation, scale)
        return Limit(
            ("tenant", tenant.lower(), principal_id.lower(), operation),
            size,
            rate,
            f"{HEADER_PREFIX}tenant-{operation}",
            # Our choice: the subscription answer's shape, with the tenant.
            "TenantRequestsThrottled",
            f"Number of '{SINGULAR[operation]}' requests for tenant '{tenant}' actor '{principal_id}'",
        )


def _headers(buckets) -> dict:
    """The tokens left in each bucket, as ARM's x-ms-ratelimit-remaining-* headers say it."""
    return {limit.header: str(bucket.remaining) for limit, bucket in buckets}
