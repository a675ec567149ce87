"""Which queues a release wakes, and queues that exist only while used."""

from __future__ import annotations

import asyncio

from chain429.config.schema import Chain, ChainEntry
from chain429.router.queue import Place, Queues, Waiter, WaitQueue
from tests.support.clock import FakeClock
from tests.support.polling import eventually


def chain(name: str, *entries: tuple[str, str]) -> Chain:
    return Chain(name=name, entries=tuple(ChainEntry(provider=p, model=m) for p, m in entries))


A = chain("a", ("groq", "llama"), ("mistral", "small"))
B = chain("b", ("cerebras", "qwen"), ("groq", "gemma"))


def queued_head(queue: WaitQueue) -> Waiter:
    waiter = Waiter()
    assert Place(queue, waiter).enter(front=False)
    return waiter


def test_a_release_wakes_only_the_chains_that_list_the_released_entry() -> None:
    queues = Queues(10, [A, B])
    in_a, in_b = queued_head(queues.open(A)), queued_head(queues.open(B))

    queues.wake("cerebras", "qwen")
    assert (in_a.woken.is_set(), in_b.woken.is_set()) == (False, True)
    in_b.woken.clear()

    queues.wake("groq", "gemma")  # same provider as an entry of `a`, another model
    assert (in_a.woken.is_set(), in_b.woken.is_set()) == (False, True)
    in_b.woken.clear()

    queues.wake("mistral", "small")
    assert (in_a.woken.is_set(), in_b.woken.is_set()) == (True, False)


def test_capacity_shared_by_a_provider_wakes_every_chain_of_that_provider() -> None:
    queues = Queues(10, [A, B], provider_wide=["groq"])
    in_a, in_b = queued_head(queues.open(A)), queued_head(queues.open(B))
    queues.wake("groq", "gemma")
    assert (in_a.woken.is_set(), in_b.woken.is_set()) == (True, True)

    other = Queues(10, [A, B])
    in_a, in_b = queued_head(other.open(A)), queued_head(other.open(B))
    other.wake("cerebras", "qwen", provider_wide=True)  # key-wide windows were held
    assert (in_a.woken.is_set(), in_b.woken.is_set()) == (False, True)
    other.wake("groq", "gemma", provider_wide=True)
    assert in_a.woken.is_set()


def test_a_chain_outside_the_config_has_a_queue_only_while_it_is_used() -> None:
    queues = Queues(10, [A])
    direct = chain("groq/anything", ("groq", "anything"))
    first, second = queues.open(direct), queues.open(direct)
    assert first is second and set(queues.depths()) == {"a", "groq/anything"}
    waiter = queued_head(first)
    queues.wake("groq", "anything")
    assert waiter.woken.is_set()

    queues.close(first)
    assert "groq/anything" in queues.depths()
    queues.close(second)
    assert set(queues.depths()) == {"a"}
    queues.wake("groq", "anything")  # nothing left to wake, nothing fails

    configured = queues.open(A)
    queues.close(configured)
    assert set(queues.depths()) == {"a"}


def test_the_head_leaving_wakes_the_next_in_line() -> None:
    queue = Queues(10, [A]).open(A)
    head, following = Place(queue, Waiter()), Place(queue, Waiter())
    assert head.enter(front=False) and following.enter(front=False)
    following.step_out()  # not the head: nobody is woken
    assert not head.waiter.woken.is_set()
    assert following.enter(front=False)
    head.step_out()
    assert following.waiter.woken.is_set() and queue.is_head(following.waiter)


async def test_a_turn_comes_when_the_clock_reaches_capacity_or_ends_at_the_deadline() -> None:
    clock = FakeClock(0.0)
    queue = Queues(10, [A]).open(A)
    head, behind = Place(queue, Waiter()), Place(queue, Waiter())
    assert head.enter(front=False) and behind.enter(front=False)
    head_turn = asyncio.ensure_future(head.turn(clock, deadline=100.0, wake_at=30.0))
    behind_turn = asyncio.ensure_future(behind.turn(clock, deadline=50.0, wake_at=20.0))
    await eventually(lambda: clock.pending == 4, what="both turns wait on the clock")

    clock.advance(20)  # capacity due for `behind`, but it is not the head: it waits on
    await eventually(lambda: clock.pending == 3, what="behind's wake-up timer ran")
    clock.advance(10)
    assert await asyncio.wait_for(head_turn, 1) is True
    assert not behind_turn.done()
    clock.advance(20)  # `behind`'s deadline
    assert await asyncio.wait_for(behind_turn, 1) is False
    assert clock.pending == 0  # each turn cancels the timers it set
