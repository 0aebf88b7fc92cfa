# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""The azure-core pieces we replace: the retry policy and the LRO polling loop.

Importing this file loads no SDK (module start-up stays fast): the retry policy needs nothing from
azure-core's HTTPPolicy but the `next` link the pipeline sets, and the polling class, which must extend
azure-mgmt-core's ARMPolling, is defined on first use.

What azure-core 1.41's RetryPolicy does, and the gaps filled here:
- it sleeps for any Retry-After with no upper bound, and checks its 7-day timeout with the wall clock;
  here every request has a retry budget on the monotonic clock and a Retry-After that would outlast it
  ends the retries instead of sleeping;
- it retries any 4xx that carries Retry-After, but POST and PATCH not on 429 without one; here the
  statuses are 408/429/500/502/503/504, and POST/PATCH only on 408/429/503, where the server did not act
  (POST actions that only read or may be repeated, such as listKeys and provider register, count as GETs);
- it retries connection errors for GET/PUT/DELETE only; here a request that never reached the server is
  retried for every method, a connection lost after sending only for idempotent methods and those POSTs;
- it retries TLS verification failures as connection errors; here they fail at once with what to fix;
- its backoff has no jitter, so many hosts throttled together retry together; here it has, and a 429's retry
  comes a random part of its Retry-After later still (at most 5 s), bounded by the budget, not by a count.
ARMPolling waits Retry-After or a fixed 30 s, has no deadline, and polls once with no wait at all right
after the first response; DeadlinePolling waits Retry-After before every poll (without one, 1 s growing to
wait_sleep), within the task's wait deadline.
"""

from __future__ import annotations

import functools
import random
import re
import ssl
import time

from ansible_collections.hci.arc_ml.plugins.module_utils._azure.errors import (
    AzureConnectionError,
    retry_after_seconds,
)
from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import one_line
from ansible_collections.hci.arc_ml.plugins.module_utils._common.wait import Deadline

RETRY_STATUSES = frozenset((408, 429, 500, 502, 503, 504))
NOT_ACTED_ON_STATUSES = frozenset((408, 429, 503))
IDEMPOTENT_METHODS = frozenset(("GET", "HEAD", "PUT", "DELETE", "OPTIONS"))
# POST actions that change nothing (they read keys or settings) or give the same result when repeated
# (registering a provider): retried like a GET, also when the connection drops after sending.
# The longest a throttled request's retry is spread beyond its Retry-After (see ArmRetryPolicy._throttle_spread).
THROTTLE_SPREAD_MAX = 5.0
REPEATABLE_POST_ACTIONS = (
    "/listkeys",
    "/register",
    "/unregister",
    "/healthcheck",
    "/gethelmsettings",
    "/getlatesthelmpackagepath",
)


class RetrySettings:
    """How hard one ARM request is retried: at most `max_retries` retries within `budget` seconds.

    Throttled requests (429) are retried as long as the budget lasts, whatever their count.
    """

    def __init__(self, max_retries=8, budget=300.0, backoff_factor=0.8, backoff_max=30.0):
        self.max_retries = max_retries
        self.budget = budget
        self.backoff_factor = backoff_factor
        self.backoff_max = backoff_max


class ArmRetryPolicy:
    """Retries throttling, server errors and connection errors, honouring Retry-After within a budget.

    An azure-core HTTP policy: the pipeline sets `next` to the rest of the chain and calls `send`.
    """

    def __init__(self, settings=None, clock=None, sleep=None, jitter=None):
        self.next = None
        self.settings = settings or RetrySettings()
        self._clock = clock or time.monotonic
        self._sleep = sleep or time.sleep
        self._jitter = jitter or random.random

    def send(self, request):
        from azure.core.exceptions import ServiceRequestError, ServiceResponseError

        method = request.http_request.method.upper()
        repeatable = _repeatable(method, request.http_request.url)
        deadline = Deadline(self.settings.budget, self._clock)
        retries = 0
        while True:
            try:
                response = self.next.send(request)
            except ServiceRequestError as exc:
                error, reached_server = exc, False
            except ServiceResponseError as exc:
                error, reached_server = exc, True
            else:
                status = response.http_response.status_code
                if not self._retryable(repeatable, status):
                    return response
                delay = retry_after_seconds(response.http_response.headers)
                throttled = status == 429
                if delay is None:
                    delay = self._backoff(retries)
                elif throttled:
                    delay += self._throttle_spread(delay)
                # A throttled request was not processed and ARM says when a token is back: only the budget bounds
                # those retries, not their count, which a fleet sharing one bucket easily spends.
                out_of_retries = retries >= self.settings.max_retries and not throttled
                if out_of_retries or delay > deadline.remaining():
                    # The caller turns this last answer into the error, with its Retry-After and request id.
                    return response
                retries += 1
                self._sleep(delay)
                continue

            url = request.http_request.url
            if _is_tls_failure(error):
                raise AzureConnectionError(
                    f"TLS verification failed for {_origin(url)}: {_reason(error)}. Set ca_bundle (or "
                    "REQUESTS_CA_BUNDLE) to the CA bundle that signed this endpoint's certificate; verification "
                    "cannot be turned off."
                ) from None
            if reached_server and not repeatable:
                raise AzureConnectionError(
                    f"The connection to {_origin(url)} was lost after sending {method} {_path(url)}: "
                    f"{_reason(error)}. Azure may or may not have applied it; re-run the task, which checks the "
                    "current state first."
                ) from None
            delay = self._backoff(retries)
            if retries >= self.settings.max_retries or delay > deadline.remaining():
                raise AzureConnectionError(
                    f"Could not reach {_origin(url)} for {method} {_path(url)}: {_reason(error)} (after "
                    f"{retries + 1} attempts over {deadline.elapsed():.0f}s). Check the network path and proxy "
                    "settings, and that cloud_environment names a reachable endpoint."
                ) from None
            retries += 1
            self._sleep(delay)

    @staticmethod
    def _retryable(repeatable, status):
        if repeatable:
            return status in RETRY_STATUSES
        return status in NOT_ACTED_ON_STATUSES

    def _throttle_spread(self, retry_after):
        """How much later than Retry-After a throttled request goes again: up to as long again (at most 5 s).

        Every site throttled by the same empty bucket is told the same Retry-After; sent again all at once, most
        would meet an empty bucket again.
        """
        return self._jitter() * min(retry_after, THROTTLE_SPREAD_MAX)

    def _backoff(self, retries):
        ceiling = min(self.settings.backoff_max, self.settings.backoff_factor * (2**retries))
        return ceiling / 2 + self._jitter() * ceiling / 2


def deadline_polling(waiter, what, final_state_via=None):
    """An ARMPolling whose every status request waits for Retry-After (else a pause growing to wait_sleep).

    No wait runs past the task's deadline. `what` names the operation in wait messages.
    """
    return _deadline_polling_class()(waiter, what, final_state_via)


@functools.cache
def _deadline_polling_class():
    from azure.mgmt.core.polling.arm_polling import ARMPolling

    class DeadlinePolling(ARMPolling):
        def __init__(self, waiter, what, final_state_via=None):
            options = {"final-state-via": final_state_via} if final_state_via else None
            super().__init__(timeout=waiter.interval, lro_options=options)
            self._waiter = waiter
            self._what = what
            self._polls = 0

        def update_status(self):
            # Waiting here rather than in _delay() also covers the first poll, which ARMPolling sends at once.
            headers = self._pipeline_response.http_response.headers
            self._polls += 1
            self._waiter.before_next_poll(self._what, self.status(), retry_after_seconds(headers), self._polls)
            super().update_status()

        def _delay(self):
            """update_status() has already waited."""

    return DeadlinePolling


def _repeatable(method, url):
    """Whether sending the request again is safe even if the server acted on it."""
    if method in IDEMPOTENT_METHODS:
        return True
    return method == "POST" and _path(url).lower().rstrip("/").endswith(REPEATABLE_POST_ACTIONS)


def _is_tls_failure(error):
    seen = set()
    pending = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ssl.SSLError) or type(current).__name__ == "SSLError":
            return True
        if isinstance(current, BaseException):
            pending.extend((current.__cause__, current.__context__, getattr(current, "inner_exception", None)))
            pending.extend(a for a in current.args if isinstance(a, BaseException))
            pending.append(getattr(current, "reason", None))
    return False


def _reason(error):
    text = str(getattr(error, "inner_exception", None) or error)
    errno_reason = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", text)
    if errno_reason:
        return errno_reason.group(1).strip()
    verify = re.search(r"certificate verify failed: ([^'\")\]]+)", text)
    if verify:
        return "certificate verify failed: " + verify.group(1).strip()
    return one_line(text, limit=200)


def _origin(url):
    match = re.match(r"^(https?://[^/]+)", url)
    return match.group(1) if match else url


def _path(url):
    return re.sub(r"^https?://[^/]+", "", url).split("?", 1)[0]
