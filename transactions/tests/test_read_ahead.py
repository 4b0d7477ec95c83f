"""The ingest's read-ahead thread: same items, same order, errors where they happened, bounded, stoppable."""
from __future__ import annotations

import sys
import threading
from collections.abc import Iterator

import pytest

from transactions.services.read_ahead import SWITCH_INTERVAL_S, ReadAhead, short_switch_interval


def test_items_arrive_in_order_and_complete():
    with ReadAhead(iter(range(1_003)), batch_size=10, batches=2) as items:
        assert list(items) == list(range(1_003))


def test_an_error_of_the_source_is_raised_to_the_consumer_after_the_items_before_it():
    def source() -> Iterator[int]:
        yield from range(25)
        raise ValueError("line 26: broken")

    seen: list[int] = []
    with pytest.raises(ValueError, match="line 26"), ReadAhead(source(), batch_size=10) as items:
        for item in items:
            seen.append(item)
    assert seen == list(range(25))


def test_the_producer_stays_a_bounded_number_of_items_ahead():
    produced = 0

    def source() -> Iterator[int]:
        nonlocal produced
        for number in range(100_000):
            produced += 1
            yield number

    with ReadAhead(source(), batch_size=10, batches=3) as items:
        next(items)
        for _ in range(200):  # give the producer time to fill the buffer
            if produced >= 40:
                break
            threading.Event().wait(0.01)
        # 3 batches queued + 1 being filled + the one handed to the consumer
        assert 30 <= produced <= 60


def test_leaving_early_stops_the_thread():
    context = ReadAhead(iter(range(10**9)), batch_size=10, batches=2)
    with context as items:
        next(items)
    context._thread.join(timeout=5)
    assert not context._thread.is_alive()


def test_the_switch_interval_is_shortened_and_restored():
    before = sys.getswitchinterval()
    with short_switch_interval():
        assert sys.getswitchinterval() == min(before, SWITCH_INTERVAL_S)
    assert sys.getswitchinterval() == before
