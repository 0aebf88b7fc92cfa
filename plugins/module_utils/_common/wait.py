# Copyright (c) hci.arc_ml contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
#
# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the hci.arc_ml collection
# and may change in any release, even a bugfix release. Do not use them from outside.

"""Waiting with a monotonic deadline: the `wait`, `wait_timeout` and `wait_sleep` options.

One Waiter serves a whole task: its deadline starts at the first wait and every later wait in the
same task shares it, so `wait_timeout` bounds the total time a task spends waiting.
"""

from __future__ import annotations

import time

from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError

DEFAULT_WAIT_TIMEOUT = 600
DEFAULT_WAIT_SLEEP = 5
# The pauses grow 1, 2, 3... seconds up to wait_sleep: a state that changes within seconds is seen within about a
# second, and a wait of minutes costs two or three more requests than fixed pauses would.
FIRST_POLL_DELAY = 1.0


def wait_argument_spec():
    """The options documented by the hci.arc_ml.wait doc fragment."""
    return dict(
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=DEFAULT_WAIT_TIMEOUT),
        wait_sleep=dict(type="int", default=DEFAULT_WAIT_SLEEP),
    )


class WaitTimeout(ArcMLError):
    """The deadline passed before the awaited state was reached; carries the last state observed."""

    def __init__(self, what, timeout, elapsed, last_state):
        super().__init__(
            f"Timed out after {elapsed:.0f}s (wait_timeout={timeout}) waiting for {what}; last observed state: "
            f"{last_state}. The operation may still complete: re-run the task, or raise wait_timeout.",
            last_state=last_state,
            elapsed=round(elapsed, 1),
        )
        self.what = what
        self.last_state = last_state


class Deadline:
    """A point in monotonic time `seconds` from now."""

    def __init__(self, seconds, clock=None):
        self._clock = clock or time.monotonic
        self._start = self._clock()
        self._end = self._start + seconds

    def elapsed(self):
        return self._clock() - self._start

    def remaining(self):
        return max(0.0, self._end - self._clock())

    def expired(self):
        return self._clock() >= self._end


class Waiter:
    """Polls until a condition holds, pausing 1, 2, 3... s up to `interval`, and never less than a Retry-After."""

    def __init__(self, timeout, interval, clock=None, sleep=None):
        if timeout < 0:
            raise ArcMLError(f"wait_timeout must be 0 or more seconds, got {timeout}.")
        if interval < 1:
            raise ArcMLError(f"wait_sleep must be at least 1 second, got {interval}.")
        self.timeout = timeout
        self.interval = interval
        self._clock = clock or time.monotonic
        self._sleep = sleep or time.sleep
        self._deadline = None

    def start(self):
        """Start the deadline at the first call; later calls return the same deadline."""
        if self._deadline is None:
            self._deadline = Deadline(self.timeout, self._clock)
        return self._deadline

    def delay_for(self, retry_after, polls):
        """Seconds to sleep before the next poll.

        `polls`, how many polls this wait has made so far, sets a pause of FIRST_POLL_DELAY after the first, growing
        by as much with each poll up to wait_sleep; the server's Retry-After, when longer, wins. A Retry-After is
        the shortest pause the server asks for, not a schedule: an operation of minutes answered with
        "Retry-After: 1" would otherwise be polled every second, and a fleet polling like that spends ARM's read
        tokens (25 a second per principal and subscription, docs/scale.md) on status reads.
        """
        pause = min(float(self.interval), FIRST_POLL_DELAY * max(1, polls))
        return pause if retry_after is None else max(float(retry_after), pause)

    def before_next_poll(self, what, last_state, retry_after, polls):
        """Sleep until the next poll is due; raise WaitTimeout if the deadline has already passed.

        The sleep never runs past the deadline, so the final poll happens right at it.
        """
        deadline = self.start()
        if deadline.expired():
            raise WaitTimeout(what, self.timeout, deadline.elapsed(), last_state)
        self._sleep(min(self.delay_for(retry_after, polls), deadline.remaining()))

    def poll_until(self, poll, done, what, describe=str, first=None):
        """Call `poll()` until `done(value)`; return that value.

        `poll` returns `(value, retry_after)`, where `retry_after` is the server's Retry-After in seconds
        or None. `first`, in the same form, is an observation already made (such as the answer to the
        request that started the operation): the first poll then waits as for any other. `describe(value)`
        names the state for the timeout message.
        """
        self.start()
        value, retry_after = first if first is not None else poll()
        polls = 1
        while not done(value):
            self.before_next_poll(what, describe(value), retry_after, polls)
            value, retry_after = poll()
            polls += 1
        return value
