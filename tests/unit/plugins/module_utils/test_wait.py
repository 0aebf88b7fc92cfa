"""Waits: monotonic deadline, Retry-After before wait_sleep, the last state on timeout."""

import pytest
from ansible_collections.hci.arc_ml.plugins.module_utils._common.errors import ArcMLError
from ansible_collections.hci.arc_ml.plugins.module_utils._common.wait import Waiter, WaitTimeout


def states(*values):
    """A poll function that reports each (state, retry_after) in turn and counts its calls."""
    remaining = list(values)

    def poll():
        poll.calls += 1
        return remaining.pop(0)

    poll.calls = 0
    return poll


def make_waiter(clock, timeout=60, interval=5):
    return Waiter(timeout, interval, clock=clock, sleep=clock.sleep)


def test_without_retry_after_the_pause_grows_from_one_second_up_to_wait_sleep(fake_clock):
    poll = states(*[("Registering", None)] * 7 + [("Registered", None)])
    result = make_waiter(fake_clock).poll_until(poll, lambda s: s == "Registered", "provider")
    assert result == "Registered"
    assert fake_clock.sleeps == [1, 2, 3, 4, 5, 5, 5]


def test_a_wait_sleep_of_one_second_polls_every_second(fake_clock):
    poll = states(*[("Registering", None)] * 3 + [("Registered", None)])
    make_waiter(fake_clock, interval=1).poll_until(poll, lambda s: s == "Registered", "provider")
    assert fake_clock.sleeps == [1, 1, 1]


def test_each_wait_starts_its_pauses_again_from_one_second(fake_clock):
    waiter = make_waiter(fake_clock, timeout=60, interval=5)
    waiter.poll_until(states(*[("a", None)] * 3 + [("b", None)]), lambda s: s == "b", "first")
    waiter.poll_until(states(("x", None), ("y", None)), lambda s: s == "y", "second")
    assert fake_clock.sleeps == [1, 2, 3, 1]


def test_a_retry_after_longer_than_the_pause_wins_even_over_wait_sleep(fake_clock):
    poll = states(("Running", 2), ("Running", 17), ("Succeeded", None))
    make_waiter(fake_clock).poll_until(poll, lambda s: s == "Succeeded", "operation")
    assert fake_clock.sleeps == [2, 17]


def test_a_short_retry_after_never_makes_the_polls_faster_than_the_growing_pause(fake_clock):
    # "Retry-After: 1" on every answer of a long operation: polled after 1, 2, 3, 4, 5, 5 s, not every second.
    poll = states(*[("Running", 1)] * 6 + [("Succeeded", 1)])
    make_waiter(fake_clock).poll_until(poll, lambda s: s == "Succeeded", "operation")
    assert fake_clock.sleeps == [1, 2, 3, 4, 5, 5]


def test_retry_after_zero_is_floored_so_polling_never_spins(fake_clock):
    poll = states(("Running", 0), ("Succeeded", None))
    make_waiter(fake_clock).poll_until(poll, lambda s: s == "Succeeded", "operation")
    assert fake_clock.sleeps == [1]


def test_timeout_reports_the_last_observed_state(fake_clock):
    poll = states(*[("Registering", 5)] * 3 + [("Unregistering", 5)])
    with pytest.raises(WaitTimeout) as caught:
        make_waiter(fake_clock, timeout=15).poll_until(poll, lambda s: s == "Registered", "Microsoft.Relay")
    assert caught.value.last_state == "Unregistering"
    assert "Microsoft.Relay" in caught.value.message
    assert "last observed state: Unregistering" in caught.value.message
    assert "wait_timeout=15" in caught.value.message


def test_sleep_never_runs_past_the_deadline_and_the_last_poll_is_at_it(fake_clock):
    poll = states(("Running", 100), ("Running", None))
    with pytest.raises(WaitTimeout):
        make_waiter(fake_clock, timeout=30).poll_until(poll, lambda s: s == "Done", "operation")
    assert fake_clock.sleeps == [30]
    assert poll.calls == 2


def test_deadline_is_shared_by_every_wait_of_the_task(fake_clock):
    waiter = make_waiter(fake_clock, timeout=12, interval=5)
    waiter.poll_until(states(("a", 5), ("a", 5), ("b", None)), lambda s: s == "b", "first")
    assert fake_clock.sleeps == [5, 5]
    with pytest.raises(WaitTimeout):
        waiter.poll_until(states(("x", 5), ("x", 5)), lambda s: s == "y", "second")
    assert fake_clock.sleeps == [5, 5, 2]


def test_first_observation_is_not_polled_again_but_waited_on(fake_clock):
    poll = states(("Registered", None))
    waiter = make_waiter(fake_clock)
    result = waiter.poll_until(poll, lambda s: s == "Registered", "p", first=("Registering", 3))
    assert result == "Registered"
    assert poll.calls == 1
    assert fake_clock.sleeps == [3]


def test_already_done_returns_without_sleeping(fake_clock):
    poll = states(("Registered", None))
    assert make_waiter(fake_clock).poll_until(poll, lambda s: s == "Registered", "p") == "Registered"
    assert fake_clock.sleeps == []


def test_describe_names_the_state_in_the_timeout(fake_clock):
    poll = states(({"status": "InProgress"}, 5), ({"status": "InProgress"}, 5))
    with pytest.raises(WaitTimeout) as caught:
        make_waiter(fake_clock, timeout=5).poll_until(
            poll, lambda body: body["status"] == "Succeeded", "op", describe=lambda body: body["status"]
        )
    assert caught.value.last_state == "InProgress"


@pytest.mark.parametrize(("timeout", "interval"), [(-1, 5), (10, 0)])
def test_rejects_impossible_settings(timeout, interval):
    with pytest.raises(ArcMLError):
        Waiter(timeout, interval)


def test_default_clock_is_monotonic(monkeypatch):
    import time

    calls = []
    monkeypatch.setattr(time, "monotonic", lambda: calls.append(1) or 5.0)
    Waiter(10, 1).start()
    assert calls


def test_a_deadline_without_a_clock_uses_the_monotonic_one():
    from ansible_collections.hci.arc_ml.plugins.module_utils._common.wait import Deadline

    deadline = Deadline(10)
    assert 9 < deadline.remaining() <= 10 and not deadline.expired()
